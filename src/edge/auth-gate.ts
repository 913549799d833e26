/**
 * Authentication at the socket edge: who may connect, and what each connection may do.
 *
 * - A WebSocket upgrade presents its token in `Authorization: Bearer` or `?token=`, or the connection's
 *   first message is `{"op":"auth","token":…}` (browsers cannot set headers on a WebSocket). Upgrades are
 *   decided synchronously (src/edge/routes.ts says why), so before the upgrade a token is checked as far as
 *   it can be without its signature: malformed, expired, not yet valid, no key for it, no `sub`, or without
 *   `ingest` on /v1/ingest is refused there (401, 403). Its signature, and its subject's `max_connections`
 *   over all workers, are checked right after the upgrade, before anything the connection sends is handled:
 *   those messages wait (bounded) until then. A refusal then is an error followed by close 4001 (bad token),
 *   4003 (not permitted) or 4029 (limit); so is anything but `{"op":"auth"}` first on a connection opened
 *   without a token, or no token within {@link AUTH_DEADLINE_MS}.
 * - A later `{"op":"auth"}` refreshes the token without reconnecting: the same subject with the same
 *   entitlements, a later `exp`. A connection whose token expires unrefreshed is closed at `exp` with 4001.
 * - Feed connections get a {@link FeedAccess}: their subscriptions are admitted against the token's
 *   entitlements (src/auth/entitlements.ts) when they open, never per frame.
 * - `/metrics` and `/v1/stats` need `metrics` or `admin`, `/v1/admin/*` needs `admin`.
 * - The HTTP data endpoints (`/v1/history`, `/v1/bars`, `/v1/last`, `/v1/symbols`) get the same
 *   {@link FeedAccess} as a feed connection with the request's token ({@link AuthGate.dataAccess}).
 * - The `Origin` of browsers' upgrades is checked against `--allowed-origins`; without the option any
 *   origin may read /v1/feed and none may publish on /v1/ingest (a page the operator happens to visit
 *   must not be able to publish into a local daemon).
 *
 * Every refusal goes to the audit trail (auth-audit.ts).
 */
import { setTimeout as setTimer } from "node:timers";
import type { Grants } from "../auth/claims.js";
import { admitFeed, permissionRefusal } from "../auth/entitlements.js";
import type { AuthKeys } from "../auth/keys.js";
import { MAX_TOKEN_CHARS, TokenVerifier } from "../auth/verifier.js";
import { errorJson, TickringError } from "../errors.js";
import type { FeedAccess } from "../subscriber/feed-access.js";
import { closeWhenDrained, type FeedConnection } from "../subscriber/realtime-feed.js";
import type { SharedCounts } from "../threads/shared-counts.js";
import { bytesView, type Message } from "../transport/transport.js";
import type { AuthAudit } from "./auth-audit.js";
import type { DataAsk, DataVerdict, HttpAsk, UpgradeRequest, Verdict } from "./routes.js";

/** How long a connection opened without a token has to send `{"op":"auth"}`. */
export const AUTH_DEADLINE_MS = 10_000;
/** Close codes (the 4000s are the application's): no valid token; not permitted; a limit of the token. */
export const CLOSE_UNAUTHORIZED = 4001;
export const CLOSE_FORBIDDEN = 4003;
export const CLOSE_LIMIT = 4029;
/** Messages (and their bytes) a connection may send behind its first `{"op":"auth"}` before it is verified. */
const MAX_QUEUED = 64;
const MAX_QUEUED_BYTES = 1024 * 1024;
/** Node's timers take at most 2^31 − 1 ms; a later expiry is re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Bytes `"auth"`: only a message holding them is parsed to see whether it is an auth message. */
const AUTH_MARK = Buffer.from('"auth"');

/** A connection as the gate sees it: its upgrade request (uWS user data), then its socket. */
export interface GateConn extends UpgradeRequest, FeedConnection {
  kind: "feed" | "ingest";
  access?: FeedAccess;
  /** Its standing; undefined while auth is off. */
  auth?: AuthState;
}

interface AuthState {
  /** What its token grants; undefined until it authenticated. */
  grants: Grants | undefined;
  /** The token its upgrade presented, to verify once it is open. */
  presented: string | undefined;
  /** The subject this connection counts for in `connectionsPerSub` (one count), if it does. */
  counted: string | undefined;
  /** The expiry timer, or the deadline for the first `{"op":"auth"}`. */
  timer: ReturnType<typeof setTimer> | undefined;
  verifying: boolean;
  /** Messages received while the first token was being verified, and those behind a refresh among them. */
  queue: { message: Message; isBinary: boolean }[];
  queuedBytes: number;
}

/** What the gate is built from. */
export interface AuthGateOptions {
  /** undefined = auth off. */
  keys: AuthKeys | undefined;
  allowedOrigins: readonly string[] | undefined;
  /** Connections per token subject over all workers. */
  connectionsPerSub: SharedCounts;
  audit: AuthAudit;
  /** Hands on a message that waited for its connection's token. */
  deliver(conn: GateConn, message: Message, isBinary: boolean): void;
}

export class AuthGate {
  private readonly verifier: TokenVerifier | undefined;

  constructor(private readonly o: AuthGateOptions) {
    this.verifier = o.keys === undefined ? undefined : new TokenVerifier(o.keys);
  }

  /** Whether tokens are verified. */
  get on(): boolean {
    return this.verifier !== undefined;
  }

  /** New keys (SIGHUP): connections keep their tokens; tokens presented from now on are verified with these. */
  setKeys(keys: AuthKeys): void {
    this.verifier?.setKeys(keys);
  }

  /**
   * A WebSocket upgrade: its origin, and its token as far as it can be checked without its signature (see
   * the module doc); the token's claims are not trusted yet, so they may only refuse.
   */
  admit(req: GateConn): TickringError | undefined {
    const origin = this.originRefusal(req);
    if (origin !== undefined) return this.o.audit.refused(req, undefined, origin);
    if (this.verifier === undefined) return undefined;
    const token = req.token;
    req.token = undefined;
    req.auth = {
      grants: undefined,
      presented: token,
      counted: undefined,
      timer: undefined,
      verifying: false,
      queue: [],
      queuedBytes: 0,
    };
    if (token === undefined) return undefined;
    try {
      const claimed = this.verifier.precheck(token);
      const refused = req.route === "ingest" ? permissionRefusal(claimed, "ingest") : undefined;
      return refused === undefined ? undefined : this.o.audit.refused(req, undefined, refused);
    } catch (err) {
      return this.o.audit.refused(req, undefined, err as TickringError);
    }
  }

  /** The connection opened: its token verified, or the deadline for its first `{"op":"auth"}` armed. */
  opened(conn: GateConn): void {
    const a = conn.auth;
    if (a === undefined) return;
    if (a.presented !== undefined) {
      this.authenticate(conn, a, a.presented, false);
      a.presented = undefined;
    } else {
      a.timer = setTimer(() => {
        const err = new TickringError(
          "UNAUTHORIZED",
          `no token: send {"op":"auth","token":"…"} within ${AUTH_DEADLINE_MS / 1000} s of connecting, or present it on the upgrade`,
        );
        this.close(conn, this.o.audit.refused(conn, undefined, err), CLOSE_UNAUTHORIZED);
      }, AUTH_DEADLINE_MS).unref();
    }
  }

  /** The connection closed: its timer stops and its subject's count is released. */
  closed(conn: GateConn): void {
    const a = conn.auth;
    if (a === undefined) return;
    clearTimeout(a.timer);
    a.queue.length = 0;
    if (a.counted !== undefined) this.o.connectionsPerSub.release(a.counted);
    a.counted = undefined;
  }

  /**
   * Takes `{"op":"auth"}` messages, and every message of a connection that has not authenticated yet;
   * returns false for a message the endpoint should handle.
   */
  intercept(conn: GateConn, message: Message, isBinary: boolean): boolean {
    const a = conn.auth;
    if (a === undefined) {
      if (isBinary || authToken(message) === undefined) return false;
      // Auth is off: a client that sends a token anyway is not refused for it.
      conn.ws.send('{"op":"authenticated","auth":"off"}', false);
      return true;
    }
    // Behind a token being verified wait: everything, before the first one; before a refresh, what came in
    // behind it while the first was verified (so that it is handled in order, as a refresh).
    if (a.verifying && (a.grants === undefined || a.queue.length > 0)) {
      a.queue.push({ message: message.slice(0), isBinary });
      a.queuedBytes += message.byteLength;
      if (a.queue.length > MAX_QUEUED || a.queuedBytes > MAX_QUEUED_BYTES) {
        conn.closed = true;
        conn.ws.end(1008, `at most ${MAX_QUEUED} messages may wait for the token to be verified`);
      }
      return true;
    }
    const token = isBinary ? undefined : authToken(message);
    if (token !== undefined) {
      this.authenticate(conn, a, token, true);
      return true;
    }
    if (a.grants !== undefined) return false;
    const err = new TickringError(
      "UNAUTHORIZED",
      'not authenticated: the first message must be {"op":"auth","token":"…"}',
    );
    this.close(conn, this.o.audit.refused(conn, undefined, err), CLOSE_UNAUTHORIZED);
    return true;
  }

  /** May `ask` be answered: its token's permission. */
  authorize(ask: HttpAsk): Verdict {
    if (this.verifier === undefined) return undefined;
    if (ask.token === undefined) return this.o.audit.refused(ask, undefined, tokenRequired());
    return this.verifier.verify(ask.token).then(
      (grants) => {
        ask.sub = grants.sub;
        const refused = permissionRefusal(grants, ask.need);
        return refused === undefined ? undefined : this.o.audit.refused(ask, grants.sub, refused);
      },
      (err: unknown) => this.o.audit.refused(ask, undefined, err as TickringError),
    );
  }

  /** What an HTTP data request may read: its token's feed entitlements (undefined while auth is off). */
  dataAccess(ask: DataAsk): DataVerdict {
    if (this.verifier === undefined) return undefined;
    if (ask.token === undefined) return this.o.audit.refused(ask, undefined, tokenRequired());
    return this.verifier.verify(ask.token).then(
      (grants) => this.feedAccess(ask, grants),
      (err: unknown) => this.o.audit.refused(ask, undefined, err as TickringError),
    );
  }

  /** A verified token's grants for a new connection: its permission on the route, its connection limit. */
  private grant(conn: GateConn, grants: Grants): TickringError | undefined {
    const refused = conn.route === "ingest" ? permissionRefusal(grants, "ingest") : undefined;
    if (refused !== undefined) return this.o.audit.refused(conn, grants.sub, refused);
    const limit = grants.maxConnections;
    if (limit !== undefined) {
      if (!this.o.connectionsPerSub.tryAcquire(grants.sub, limit)) {
        const err = new TickringError(
          "LIMIT_REACHED",
          `${grants.sub} has ${limit} connections open, its token's max_connections: close one first`,
        );
        return this.o.audit.refused(conn, grants.sub, err);
      }
      conn.auth!.counted = grants.sub;
    }
    conn.auth!.grants = grants;
    return undefined;
  }

  /**
   * Verifies a connection's first token or a refresh (see the module doc); the connection is told it passed
   * when the token came in an `{"op":"auth"}` (`announce`).
   */
  private authenticate(conn: GateConn, a: AuthState, token: string, announce: boolean): void {
    const before = a.grants;
    a.verifying = true;
    this.verifier!.verify(token).then(
      (grants) => {
        a.verifying = false;
        if (conn.closed) return;
        if (before === undefined) {
          const refused = this.grant(conn, grants);
          if (refused !== undefined) {
            this.close(conn, refused, refused.code === "LIMIT_REACHED" ? CLOSE_LIMIT : CLOSE_FORBIDDEN);
            return;
          }
        } else {
          const changed =
            grants.sub !== before.sub
              ? `a refreshed token must be for the same sub (${before.sub})`
              : grants.fingerprint !== before.fingerprint
                ? "the refreshed token's entitlements differ: reconnect with it"
                : undefined;
          if (changed !== undefined) {
            const err = this.o.audit.refused(conn, grants.sub, new TickringError("UNAUTHORIZED", changed));
            this.close(conn, err, CLOSE_UNAUTHORIZED);
            return;
          }
          a.grants = grants;
        }
        this.established(conn, grants);
        if (announce) {
          conn.ws.send(
            JSON.stringify({
              op: "authenticated",
              sub: grants.sub,
              exp: grants.expMs === undefined ? null : grants.expMs / 1000,
            }),
            false,
          );
        }
        this.drain(conn, a);
      },
      (err: unknown) => {
        a.verifying = false;
        if (!conn.closed)
          this.close(conn, this.o.audit.refused(conn, before?.sub, err as TickringError), CLOSE_UNAUTHORIZED);
      },
    );
  }

  /**
   * Hands on the messages that waited for a token, in order, as if they came now: an `{"op":"auth"}` among
   * them is a refresh, and those behind it wait on for it.
   */
  private drain(conn: GateConn, a: AuthState): void {
    while (a.queue.length > 0 && !conn.closed) {
      const q = a.queue.shift()!;
      a.queuedBytes -= q.message.byteLength;
      const token = q.isBinary ? undefined : authToken(q.message);
      if (token !== undefined) {
        this.authenticate(conn, a, token, true);
        return;
      }
      this.o.deliver(conn, q.message, q.isBinary);
    }
  }

  /** Authenticated with `grants`: its feed access, and its expiry timer. */
  private established(conn: GateConn, grants: Grants): void {
    const a = conn.auth!;
    clearTimeout(a.timer);
    a.timer = undefined;
    if (conn.kind === "feed") conn.access = this.feedAccess(conn, grants);
    if (grants.expMs !== undefined) this.armExpiry(conn, grants);
  }

  private armExpiry(conn: GateConn, grants: Grants): void {
    const a = conn.auth!;
    const left = grants.expMs! - Date.now();
    a.timer = setTimer(
      () => {
        if (a.grants !== grants || conn.closed) return;
        if (Date.now() < grants.expMs!) {
          this.armExpiry(conn, grants);
          return;
        }
        this.o.audit.counters.expired++;
        const at = new Date(grants.expMs!).toISOString();
        const err = new TickringError(
          "UNAUTHORIZED",
          `token expired at ${at}: refresh it before exp with {"op":"auth","token":"…"}, or reconnect with a fresh one`,
        );
        this.close(conn, err, CLOSE_UNAUTHORIZED);
      },
      Math.min(Math.max(0, left), MAX_TIMER_MS),
    ).unref();
  }

  /** What the feeds may admit for `conn` (or an HTTP data request): its token's entitlements, refusals audited. */
  private feedAccess(conn: { ip: string }, grants: Grants): FeedAccess {
    return {
      maxSubscriptions: grants.maxSubscriptions,
      admit: (req) => {
        try {
          const grant = admitFeed(grants, req.feed, req.symbols, req.live, Date.now());
          const tooEarly = grant.tooEarly;
          grant.tooEarly = () => this.o.audit.refused(conn, grants.sub, tooEarly());
          return grant;
        } catch (err) {
          throw this.o.audit.refused(conn, grants.sub, err as TickringError);
        }
      },
    };
  }

  private originRefusal(req: UpgradeRequest): TickringError | undefined {
    if (req.origin === "") return undefined;
    const allowed = this.o.allowedOrigins;
    if (allowed === undefined ? req.route === "feed" : allowed.includes(req.origin)) return undefined;
    const why =
      allowed === undefined
        ? "web pages may not publish unless --allowed-origins lists them"
        : "not in --allowed-origins";
    return new TickringError("FORBIDDEN", `origin ${req.origin.slice(0, 100)}: ${why}`);
  }

  /**
   * Tells `conn` why (the error message), then closes it with `code` and the error's code as the reason (a
   * close reason holds at most 123 bytes); a feed connection once its buffer drained.
   */
  private close(conn: GateConn, err: TickringError, code: number): void {
    if (conn.closed) return;
    conn.ws.send(errorJson(err), false);
    if (conn.kind === "feed") closeWhenDrained(conn, code, err.code);
    else {
      conn.closed = true;
      conn.ws.end(code, err.code);
    }
  }
}

/**
 * The token of an `{"op":"auth","token":…}` message ("" when it has none), or undefined for any other
 * message. Only a short message holding `"auth"` is parsed: ticks and requests go on untouched.
 */
function authToken(message: Message): string | undefined {
  if (message.byteLength > MAX_TOKEN_CHARS + 1024) return undefined;
  const bytes = bytesView(message);
  if (bytes.indexOf(AUTH_MARK) < 0) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof o !== "object" || o === null || (o as { op?: unknown }).op !== "auth") return undefined;
  const token = (o as { token?: unknown }).token;
  return typeof token === "string" ? token : "";
}

function tokenRequired(): TickringError {
  return new TickringError("UNAUTHORIZED", "token required: Authorization: Bearer <token>, or ?token=");
}
