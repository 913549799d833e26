/**
 * JSON ingest messages: the envelope `{"id":…,"ticks":[…]}`, or the bare forms (one tick object, or an
 * array of ticks). The envelope's `id` is read first, so every error about the ticks can echo it.
 */
import { TickringError } from "../../errors.js";
import type { Tick } from "../../frame/codec.js";
import { preview } from "../../frame/preview.js";
import { printableProblem } from "../../frame/symbol-rules.js";
import { JSON_SPELLING, MAX_TICKS_PER_MESSAGE, readTick } from "./tick-rules.js";

/** A publisher's id for one ingest message, echoed in its ack or error. */
export type IngestId = string | number;

/** Longest string id, in characters. */
export const MAX_ID_LENGTH = 64;

/** What a JSON message holds, before its ticks are read: either `ticks` (a list) or `tick` (one). */
export interface JsonMessage {
  /** The envelope's id; undefined for the bare forms. */
  id: IngestId | undefined;
  /** The ticks of an envelope or a bare array; undefined when the message is one bare tick. */
  ticks: unknown[] | undefined;
  /** The one bare tick, when `ticks` is undefined. */
  tick: unknown;
}

/**
 * Splits a parsed JSON message into `out` (reused from message to message). Throws BAD_REQUEST for a bad
 * envelope and BAD_TICK for a list of no ticks or too many; when the id was read before the error,
 * `out.id` holds it.
 */
export function readJsonMessage(parsed: unknown, out: JsonMessage): void {
  out.id = undefined;
  out.ticks = undefined;
  out.tick = undefined;
  if (Array.isArray(parsed)) {
    out.ticks = checkCount(parsed);
    return;
  }
  if (typeof parsed !== "object" || parsed === null || !("ticks" in parsed || "id" in parsed)) {
    out.tick = parsed;
    return;
  }
  const o = parsed as Record<string, unknown>;
  if (o.id !== undefined) out.id = readId(o.id);
  for (const k in o) {
    if (k !== "id" && k !== "ticks") {
      throw new TickringError("BAD_REQUEST", `unknown field ${preview(k)}: an envelope has id and ticks`);
    }
  }
  if (!Array.isArray(o.ticks)) {
    throw new TickringError("BAD_REQUEST", `ticks: expected an array of ticks, got ${preview(o.ticks)}`);
  }
  out.ticks = checkCount(o.ticks);
}

/** Reads tick `index` of a message (-1 for a bare tick) by the tick rules. */
export function parseJsonTick(raw: unknown, index: number): Tick {
  return readTick(raw, JSON_SPELLING, index);
}

function readId(v: unknown): IngestId {
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  if (
    typeof v === "string" &&
    v.length > 0 &&
    v.length <= MAX_ID_LENGTH &&
    printableProblem(v) === undefined
  ) {
    return v;
  }
  throw new TickringError(
    "BAD_REQUEST",
    `id: expected a safe integer or a string of 1–${MAX_ID_LENGTH} printable characters, got ${preview(v)}`,
  );
}

function checkCount(ticks: unknown[]): unknown[] {
  if (ticks.length === 0) throw new TickringError("BAD_TICK", `ticks: empty array: send at least one tick`);
  if (ticks.length > MAX_TICKS_PER_MESSAGE) {
    throw new TickringError(
      "BAD_TICK",
      `ticks: ${ticks.length} ticks in one message; at most ${MAX_TICKS_PER_MESSAGE}`,
    );
  }
  return ticks;
}
