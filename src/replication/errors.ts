/**
 * Errors of replication: `ERR_REPLICATION` for what stops a node from joining or following the replicated
 * log (NATS unreachable, a stream that does not fit, a log the stream no longer holds), with the stream's
 * name; clients see only the code's fixed message, the log has this one.
 */
import { TickringError } from "../errors.js";

export class ReplicationError extends TickringError {
  override name = "ReplicationError";

  constructor(
    /** The JetStream stream concerned. */
    readonly stream: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("ERR_REPLICATION", `ERR_REPLICATION: stream ${stream}: ${message}`, options);
  }
}
