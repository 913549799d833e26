/**
 * The audit trail of authentication at the socket edge: one JSON log line (with an `"audit"` field) per
 * refused authentication and per admin action, each with the subject (null when no token was verified),
 * the client's address and the code; refusals of authenticated clients (a permission, an entitlement, a
 * limit of the token) at most {@link PER_SECOND} a second, `suppressed` counting those left out since the
 * last line, so a client asking again and again cannot flood the log. The counters go to /metrics.
 */
import type { TickringError } from "../errors.js";
import type { Logger } from "../logger.js";

/** Refusals of authenticated clients logged per second at most, per worker. */
const PER_SECOND = 10;

/** What the audit counts, for /metrics. */
export interface AuthCounters {
  /** Authentications refused (no, bad or expired token). */
  refused: number;
  /** Requests of authenticated clients refused (a permission, an entitlement, a limit of the token). */
  forbidden: number;
  /** Connections closed at their token's expiry. */
  expired: number;
  adminActions: number;
}

export class AuthAudit {
  private window = { second: 0, logged: 0, suppressed: 0 };

  constructor(
    private readonly log: Logger,
    readonly counters: AuthCounters,
  ) {}

  /** Logs and counts the refusal `err` of a request from `who` (`sub` when its token was verified); returns it. */
  refused(who: { ip: string }, sub: string | undefined, err: TickringError): TickringError {
    const entry = { audit: "auth", sub: sub ?? null, remote: who.ip, code: err.code, reason: err.message };
    if (err.code === "UNAUTHORIZED") {
      this.counters.refused++;
      this.log.warn(entry, "authentication refused");
      return err;
    }
    this.counters.forbidden++;
    const second = Math.floor(Date.now() / 1000);
    const w = this.window;
    if (w.second !== second) this.window = { second, logged: 0, suppressed: w.suppressed };
    if (this.window.logged >= PER_SECOND) {
      this.window.suppressed++;
      return err;
    }
    this.window.logged++;
    const suppressed = this.window.suppressed;
    this.window.suppressed = 0;
    this.log.warn({ ...entry, audit: "entitlement", suppressed }, "request refused");
    return err;
  }

  /** An admin request was answered with `status` (and `code` for an error), for the subject `sub`. */
  adminAction(
    who: { ip: string; sub?: string },
    action: string,
    status: number,
    code: string | undefined,
  ): void {
    this.counters.adminActions++;
    this.log.info(
      { audit: "admin", sub: who.sub ?? null, remote: who.ip, action, status, code: code ?? "OK" },
      "admin action",
    );
  }
}
