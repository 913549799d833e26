/**
 * The client's options: one typed interface each, defaults and validation in one place
 * ({@link resolveReconnect}).
 */
import { ClientError } from "./errors.js";

/** The WebSocket this client needs: the browser's, or `ws` in Node. */
export interface WebSocketLike {
  binaryType: string;
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * How an accepted subscription reconnects after its connection is lost: the delay starts at `initialMs`
 * and doubles with each failed attempt up to `maxMs`.
 */
export interface ReconnectOptions {
  /** Delay before the first attempt. @default 100 */
  initialMs?: number;
  /** Longest delay between attempts. @default 5000 */
  maxMs?: number;
  /**
   * Failed attempts in a row after which the subscription ends with an `UNAVAILABLE` error; 0 gives up
   * as soon as the connection is lost. An accepted (re)subscription starts the count again.
   * @default Infinity
   */
  maxAttempts?: number;
}

/**
 * A token, or a callback that gives one (called for every connection and before each token expires, so
 * it can fetch a fresh one from the application's issuer).
 */
export type TokenSource = string | (() => string | Promise<string>);

export interface ClientOptions {
  /** Server base URL, e.g. `ws://127.0.0.1:9420` (the `/v1/feed` path is added). */
  url: string;
  /**
   * The token the server wants (docs/protocol.md "Authentication"), sent as the first message of each
   * connection (`{"op":"auth"}`: no header, so browsers can, and never in the URL). A callback is asked
   * again before the token expires and the fresh token is sent on the open connection; a plain string
   * cannot be refreshed, and the subscription ends with `UNAUTHORIZED` once it expires.
   * @default none (a server without authentication)
   */
  token?: TokenSource;
  /** WebSocket implementation. @default the `ws` package in Node, globalThis.WebSocket elsewhere */
  WebSocket?: WebSocketConstructor;
  /** Reconnecting after a lost connection; `false` ends the subscription instead. @default {} (the defaults of {@link ReconnectOptions}) */
  reconnect?: ReconnectOptions | false;
}

export type Backoff = Required<ReconnectOptions>;

/** The defaults of {@link ReconnectOptions}. */
export const RECONNECT_DEFAULTS: Readonly<Backoff> = {
  initialMs: 100,
  maxMs: 5000,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/** `reconnect` with its defaults, checked; throws a `BAD_OPTION` ClientError naming the bad field. */
export function resolveReconnect(reconnect: ReconnectOptions | false | undefined): Backoff | false {
  if (reconnect === false) return false;
  const r: Backoff = {
    initialMs: reconnect?.initialMs ?? RECONNECT_DEFAULTS.initialMs,
    maxMs: reconnect?.maxMs ?? RECONNECT_DEFAULTS.maxMs,
    maxAttempts: reconnect?.maxAttempts ?? RECONNECT_DEFAULTS.maxAttempts,
  };
  const check = (field: keyof Backoff, ok: boolean, expected: string) => {
    if (!ok)
      throw new ClientError(
        "BAD_OPTION",
        `reconnect.${field}: expected ${expected}, got ${String(r[field])}`,
      );
  };
  check("initialMs", Number.isFinite(r.initialMs) && r.initialMs >= 0, "a number of milliseconds ≥ 0");
  check(
    "maxMs",
    Number.isFinite(r.maxMs) && r.maxMs >= r.initialMs,
    `a number of milliseconds ≥ initialMs (${r.initialMs})`,
  );
  check(
    "maxAttempts",
    r.maxAttempts === Number.POSITIVE_INFINITY || (Number.isSafeInteger(r.maxAttempts) && r.maxAttempts >= 0),
    "an integer ≥ 0 or Infinity",
  );
  return r;
}

/** The delay before reconnect attempt `attempt` (from 1). */
export function backoffDelay(b: Backoff, attempt: number): number {
  return Math.min(b.maxMs, b.initialMs * 2 ** (attempt - 1));
}
