/**
 * The one error model. Every error tickring raises on purpose is a {@link TickringError} with a stable
 * `code`; the same codes travel in WebSocket `{"op":"error"}` messages, in every HTTP error body, in logs
 * and in CLI messages, so clients and operators can match on them. Subclasses (options, storage,
 * recovery) add typed fields and keep the underlying failure as `cause`.
 *
 * {@link errorBody} is the one serializer: WebSocket errors and HTTP error bodies share its shape
 * `{"op":"error","code":…,"message":…[,"id":…][,"incident":…]}`. Anything that is not a TickringError
 * becomes `INTERNAL` with a fresh incident id and a fixed message — the internal message goes to the log
 * with that id, never to a client. {@link exitCodeOf} maps an error to the CLI's exit status.
 */
/** What a code means to the three outlets: HTTP status, CLI exit status, and whether its message is the client's to see. */
interface CodeInfo {
  /** HTTP status of an error body with this code. */
  status: number;
  /** `tickring` exits with 2 for misuse (bad arguments, bad requests), 1 for failures. */
  exit: 1 | 2;
  /**
   * The message a client gets instead of the error's own, when the error's message may name server paths or
   * internals (storage and recovery errors). The log keeps the full message.
   */
  public?: string;
}

const CODES = {
  // Requests and publishers' input.
  BAD_REQUEST: { status: 400, exit: 2 },
  BAD_JSON: { status: 400, exit: 2 },
  UNKNOWN_OP: { status: 400, exit: 2 },
  BAD_TICK: { status: 400, exit: 2 },
  BAD_FRAME: { status: 400, exit: 2 },
  NOT_FOUND: { status: 404, exit: 2 },
  UNSUPPORTED: { status: 415, exit: 2 },
  OUT_OF_RANGE: { status: 416, exit: 2 },
  UNAUTHORIZED: { status: 401, exit: 2 },
  FORBIDDEN: { status: 403, exit: 2 },
  // Limits and state.
  RATE_LIMITED: { status: 429, exit: 1 },
  LIMIT_REACHED: { status: 429, exit: 1 },
  NOT_READY: { status: 503, exit: 1 },
  READ_ONLY: { status: 503, exit: 1 },
  DISK_FULL: {
    status: 507,
    exit: 1,
    public: "the server's disk is full: nothing more is acked until space returns",
  },
  IO_ERROR: { status: 503, exit: 1, public: "the server could not write to its disk" },
  UNAVAILABLE: { status: 503, exit: 1 },
  INTERNAL: { status: 500, exit: 1, public: "internal error: the server logged it with this incident id" },
  // Options.
  BAD_OPTION: { status: 400, exit: 2 },
  // Storage.
  ERR_STORAGE_OPTION: { status: 500, exit: 2, public: "storage option error" },
  ERR_WAL_SEQ: { status: 500, exit: 1, public: "write-ahead log sequence error" },
  ERR_WAL_CORRUPT: { status: 500, exit: 1, public: "a write-ahead log record is corrupt" },
  ERR_WAL_GAP: { status: 500, exit: 1, public: "the write-ahead log is missing a segment" },
  ERR_WAL_SEQ_RETIRED: {
    status: 410,
    exit: 1,
    public: "retention removed those seqs from the write-ahead log",
  },
  ERR_WAL_CLOSED: { status: 503, exit: 1, public: "the write-ahead log is closed" },
  ERR_WAL_FRAME: { status: 500, exit: 1, public: "the write-ahead log refused a frame" },
  ERR_WAL_IO: { status: 503, exit: 1, public: "the write-ahead log could not write to its disk" },
  ERR_STORE_CLOSED: { status: 503, exit: 1, public: "the store is closed" },
  ERR_STORE_IO: { status: 503, exit: 1, public: "the store could not be read or written" },
  // Recovery, snapshots and the data directory.
  ERR_SNAPSHOT_EXISTS: { status: 409, exit: 1, public: "the snapshot already exists" },
  ERR_SNAPSHOT_MANIFEST: { status: 500, exit: 1, public: "the snapshot manifest is unreadable" },
  ERR_SNAPSHOT_MISSING_FILE: { status: 500, exit: 1, public: "a snapshot file is missing" },
  ERR_SNAPSHOT_CHECKSUM: { status: 500, exit: 1, public: "a snapshot file does not match its checksum" },
  ERR_SNAPSHOT_STORE: { status: 500, exit: 1, public: "the snapshot's store does not open" },
  ERR_DATA_LOCKED: { status: 409, exit: 1, public: "another process holds the data directory" },
  ERR_DATA_DIR: { status: 500, exit: 1, public: "a data directory cannot be created" },
  ERR_DATA_MISSING: { status: 404, exit: 2, public: "not a tickring data directory" },
  ERR_DATA_NOT_EMPTY: { status: 409, exit: 2, public: "the target directory is not empty" },
  // Replication (src/replication).
  ERR_REPLICATION: { status: 503, exit: 1, public: "replication failed: the server logged why" },
} satisfies Record<string, CodeInfo>;

/** Every code tickring reports. `docs/protocol.md` lists them with their meaning. */
export type ErrorCode = keyof typeof CODES;

/** Every code, for docs and tests. */
export const ERROR_CODES = Object.keys(CODES) as ErrorCode[];

/** Base error: `code` is stable, `message` says what was wrong and carries the offending value. */
export class TickringError extends Error {
  override name = "TickringError";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** HTTP status of this error's body. */
  get status(): number {
    return CODES[this.code].status;
  }
}

/** A configuration value is invalid; `option` names it as the user spelled it. */
export class OptionError extends TickringError {
  override name = "OptionError";
  readonly option: string;

  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super("BAD_OPTION", `${option}: ${message}`, options);
    this.option = option;
  }
}

/**
 * An error answering a request the client named with an id (a subscription's `id`, an ingest envelope's
 * `id`): {@link errorBody} echoes the id, so a client with several requests in flight knows which failed.
 */
export class RequestError extends TickringError {
  override name = "RequestError";

  constructor(
    err: TickringError,
    /** The request's id; undefined when the error was found before the id could be read. */
    readonly requestId: string | number | undefined,
  ) {
    super(err.code, err.message, { cause: err.cause });
  }
}

/** The JSON shape of every error a client sees, over WebSocket and HTTP alike. */
export interface ErrorBody {
  op: "error";
  code: ErrorCode;
  message: string;
  /** The id of the request (ingest message or subscription) the error answers, when it has one. */
  id?: string | number;
  /** For `INTERNAL` (and errors whose message stays in the log): the id the server logged it under. */
  incident?: string;
}

/** Where {@link errorBody} reports errors whose details stay on the server. */
export type IncidentLogger = (incident: string, err: unknown) => void;

/**
 * The client's view of `err`: a TickringError keeps its code and (unless it may name server internals)
 * its message; anything else is `INTERNAL`. `id` (or a {@link RequestError}'s own) is echoed. Errors whose details are withheld get an incident id, passed
 * with the error to `log` so an operator can find the details.
 */
export function errorBody(err: unknown, id?: string | number, log?: IncidentLogger): ErrorBody {
  const e = err instanceof TickringError ? err : undefined;
  const code: ErrorCode = e?.code ?? "INTERNAL";
  const info: CodeInfo = CODES[code];
  const body: ErrorBody = { op: "error", code, message: info.public ?? e!.message };
  const requestId = id ?? (err instanceof RequestError ? err.requestId : undefined);
  if (requestId !== undefined) body.id = requestId;
  if (info.public !== undefined) {
    body.incident = incidentId();
    log?.(body.incident, err);
  }
  return body;
}

/**
 * A fresh id to log an incident under and tell the client. Web Crypto, not node:crypto: the frame codec
 * imports this module, and the browser client imports the codec.
 */
export function incidentId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(6));
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** {@link errorBody} as JSON text. */
export function errorJson(err: unknown, id?: string | number, log?: IncidentLogger): string {
  return JSON.stringify(errorBody(err, id, log));
}

/** The system error code (`ENOSPC`, `EMFILE`, …) of `err` or of the first error in its `cause` chain. */
export function errnoOf(err: unknown): string | undefined {
  for (let e = err, depth = 0; typeof e === "object" && e !== null && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** HTTP status for an error body of `code`. */
export function httpStatusOf(code: ErrorCode): number {
  return CODES[code].status;
}

/** The CLI's exit status for `err`: 2 for misuse (bad arguments or requests), 1 for every failure. */
export function exitCodeOf(err: unknown): 1 | 2 {
  return err instanceof TickringError ? CODES[err.code].exit : 1;
}

/** True when `code` is one of tickring's error codes (for clients parsing server errors). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(CODES, code);
}
