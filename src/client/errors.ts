/**
 * What the client reports: one error type, {@link ClientError}, for the server's refusals, for every failed
 * or lost connection, and for giving up. Browser-safe: the server's codes are imported as a type only
 * (`src/errors.ts` itself needs Node).
 */
import type { ErrorCode } from "../errors.js";

/**
 * Why a connection failed or was lost, as the client saw it:
 * - a system error code of the socket when the WebSocket implementation gives one (`ECONNREFUSED`,
 *   `ENOTFOUND`, `ECONNRESET`, …: `ws` in Node does, browsers do not);
 * - `CONNECTION_FAILED`: the connection failed and the implementation said only how (e.g. an HTTP status
 *   instead of a WebSocket upgrade);
 * - `CONNECTION_CLOSED`: the connection closed, `closeCode` says how (1001: the server is shutting down,
 *   1006: it dropped without a close frame, which is all a browser reports of a refused connection);
 * - `BAD_MESSAGE`: the server (or a proxy) sent a text message that is not a well-formed control message.
 */
export type ConnectionFailureCode = "CONNECTION_FAILED" | "CONNECTION_CLOSED" | "BAD_MESSAGE" | (string & {});

/**
 * An error of a subscription. `code` is one of the server's codes (docs/protocol.md) when the server
 * refused a request; `UNAVAILABLE` when the client gave up connecting (`cause` is then the last
 * connection failure, itself a ClientError with a {@link ConnectionFailureCode}); `CLOSED` when the
 * application closed a subscription the server had not accepted yet.
 */
export class ClientError extends Error {
  override name = "ClientError";
  readonly code: ErrorCode | ConnectionFailureCode | "CLOSED";
  /** The WebSocket close code, for `CONNECTION_CLOSED`. */
  readonly closeCode: number | undefined;
  /** For server errors whose details stay in the server's log: the id it logged them under. */
  readonly incident: string | undefined;

  constructor(
    code: ErrorCode | ConnectionFailureCode | "CLOSED",
    message: string,
    options: { cause?: unknown; closeCode?: number; incident?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.closeCode = options.closeCode;
    this.incident = options.incident;
  }
}

/** The failure an `error` event of a WebSocket describes, as far as it describes it. */
export function socketFailure(ev: unknown): ClientError {
  const e = (ev as { error?: { code?: unknown; message?: unknown; cause?: { code?: unknown } } } | null)
    ?.error;
  const code = typeof e?.code === "string" ? e.code : e?.cause?.code;
  const message = typeof e?.message === "string" && e.message !== "" ? e.message : undefined;
  return new ClientError(
    typeof code === "string" ? code : "CONNECTION_FAILED",
    message ?? (ev as { message?: string } | null)?.message ?? "the connection failed",
  );
}

/** The failure a `close` event describes, when no `error` event said more. */
export function closeFailure(ev: { code: number; reason: string }): ClientError {
  const how = ev.reason === "" ? `${ev.code}` : `${ev.code} ${ev.reason}`;
  return new ClientError("CONNECTION_CLOSED", `the connection closed (${how})`, { closeCode: ev.code });
}

/** A connection failure in one line that names its code (`ws` messages often do already). */
export function describeFailure(reason: ClientError): string {
  return reason.message.includes(reason.code) ? reason.message : `${reason.code}: ${reason.message}`;
}
