/**
 * The server's control messages (JSON text on `/v1/feed`), parsed and checked in one place: a message the
 * client acts on has the fields it reads, with their types, or it is reported as malformed — never
 * thrown out of a socket handler.
 */

/** A control message the client acts on; `other` is one it has no use for (heartbeat, pong, a newer op). */
export type Control =
  | { op: "subscribed"; feed: string; seq: number | undefined; fromSeq: number | undefined }
  | { op: "replay_done"; lastSeq: number; live: boolean }
  | { op: "gap"; from: number; to: number; retired: boolean }
  | { op: "error"; code: string; message: string; id: unknown; incident: string | undefined }
  /** The token was accepted; `exp` in seconds since the epoch, undefined when it has none (or auth is off). */
  | { op: "authenticated"; exp: number | undefined }
  | { op: "other" };

/** The control message in `text`, or a sentence saying why it is malformed. */
export function parseControl(text: string): Control | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return `not JSON: ${preview(text)}`;
  }
  if (
    typeof raw !== "object" ||
    raw === null ||
    Array.isArray(raw) ||
    typeof (raw as { op?: unknown }).op !== "string"
  )
    return `not a JSON object with an op: ${preview(text)}`;
  const o = raw as Record<string, unknown>;
  switch (o.op) {
    case "subscribed":
      if (typeof o.feed !== "string" || !optionalNumber(o.seq) || !optionalNumber(o.from_seq))
        return `a "subscribed" without its fields: ${preview(text)}`;
      return {
        op: "subscribed",
        feed: o.feed,
        seq: o.seq as number | undefined,
        fromSeq: o.from_seq as number | undefined,
      };
    case "replay_done":
      if (typeof o.last_seq !== "number") return `a "replay_done" without a last_seq: ${preview(text)}`;
      return { op: "replay_done", lastSeq: o.last_seq, live: o.live === true };
    case "gap":
      if (typeof o.from !== "number" || typeof o.to !== "number")
        return `a "gap" without its seqs: ${preview(text)}`;
      return { op: "gap", from: o.from, to: o.to, retired: o.reason === "retired" };
    case "error":
      if (typeof o.code !== "string" || typeof o.message !== "string")
        return `an "error" without a code and a message: ${preview(text)}`;
      return {
        op: "error",
        code: o.code,
        message: o.message,
        id: o.id,
        incident: typeof o.incident === "string" ? o.incident : undefined,
      };
    case "authenticated":
      return { op: "authenticated", exp: typeof o.exp === "number" ? o.exp : undefined };
    default:
      return { op: "other" };
  }
}

function optionalNumber(v: unknown): boolean {
  return v === undefined || typeof v === "number";
}

/** At most 60 characters of a message: enough to recognise it, never a whole (possibly huge) message. */
function preview(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}
