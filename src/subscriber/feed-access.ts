/**
 * What a connection may subscribe to, as the feeds see it: the socket edge decides it from the connection's
 * token (src/auth) and hands the feed endpoint this much, so the feeds know nothing of tokens. Absent when
 * the server runs without authentication.
 */
import type { TickringError } from "../errors.js";
import type { SubscribeRequest } from "./protocol.js";
import type { SymbolAllow } from "./frame-filter.js";

export interface FeedAccess {
  /**
   * Admits `req` (a subscription, or an HTTP data request as the feed it reads), or throws the refusal
   * (`FORBIDDEN`) naming what it may not have.
   */
  admit(req: Pick<SubscribeRequest, "feed" | "symbols" | "live">): FeedGrant;
  /** Subscriptions the connection may hold, when its token sets a limit. */
  readonly maxSubscriptions: number | undefined;
}

/** What an admitted subscription may see beyond the symbols it named. */
export interface FeedGrant {
  /** For `*`: the symbols it may see; undefined = every one. */
  allow: SymbolAllow | undefined;
  /** The earliest ts_recv (ns since the epoch) a historical replay may start at; −Infinity = any. */
  earliestNs: number;
  /** The refusal of a replay that would start before {@link earliestNs}. */
  tooEarly(): TickringError;
}
