/**
 * Errors with stable codes. The same codes appear in WebSocket `{"op":"error","code":…}` messages, in logs
 * and in CLI messages, so clients and operators can match on them.
 */

/** Every code tickring reports. */
export type ErrorCode =
  | "BAD_OPTION"
  | "BAD_REQUEST"
  | "BAD_JSON"
  | "UNKNOWN_OP"
  | "BAD_TICK"
  | "BAD_FRAME"
  | "RATE_LIMITED"
  | "NOT_READY"
  | "UNSUPPORTED"
  | "SLOW_CONSUMER"
  | "INTERNAL";

/** Base error: `code` is stable, `message` says what was wrong and carries the offending value. */
export class TickringError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TickringError";
    this.code = code;
  }
}

/** A configuration value is invalid; `option` names it as the user spelled it. */
export class OptionError extends TickringError {
  readonly option: string;

  constructor(option: string, message: string) {
    super("BAD_OPTION", `${option}: ${message}`);
    this.name = "OptionError";
    this.option = option;
  }
}
