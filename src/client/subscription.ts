/**
 * One subscription and its connection: subscribing, handing frames over once per seq, resubscribing
 * after a loss, and reporting every failure (see {@link SubscriptionHandlers}).
 */
import { FrameView, frameLength, frameSeq } from "../frame/codec.js";
import type { Frame } from "../frame/generated/tickring/fb/frame.js";
import { type Control, parseControl } from "./control.js";
import { ClientError, closeFailure, describeFailure, socketFailure } from "./errors.js";
import {
  type Backoff,
  backoffDelay,
  type TokenSource,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./options.js";

export type Position = { seq: number } | { time: string | Date };

export interface SubscribeOptions {
  symbols: string[] | "*";
  /** @default "realtime" */
  feed?: "realtime" | "delayed" | "historical";
  from?: Position;
  to?: Position;
  /** Historical pacing: "max" or a factor of the original timing. @default "max" */
  speed?: "max" | number;
  /** Historical: continue live after the history, with no gap and no duplicate. @default false */
  live?: boolean;
  policy?: "drop" | "conflate" | "disconnect";
}

/**
 * What a subscription tells the application. Every failure reaches it once: through `reconnecting`
 * while the client recovers, through `error` when the subscription ends (or, before the server accepted
 * it, as the rejection of `subscribe()`).
 */
export interface SubscriptionHandlers {
  /** A frame, once per seq, in seq order. `frame` is valid only during the call; copy `bytes` to keep it. */
  frame(frame: Frame, seq: number, bytes: Uint8Array): void;
  /** A bounded historical replay delivered its last frame; the subscription is closed. */
  done?(lastSeq: number): void;
  /**
   * A `live:true` replay caught up and turned real time: frames up to `lastHistoricalSeq` were history,
   * the ones after it are live. Called once per subscription.
   */
  live?(lastHistoricalSeq: number): void;
  /**
   * Retention removed seqs `fromSeq`…`toSeq` (inclusive) before they could be replayed: they will never
   * come, and the stream goes on after them. Without this handler the application cannot tell.
   */
  retired?(fromSeq: number, toSeq: number): void;
  /**
   * The connection failed or was lost, or carried a malformed message; the client tries again in
   * `delayMs`. `attempt` counts from 1 since the server last accepted the subscription; `reason` says
   * what went wrong (`reason.code` is e.g. `ECONNREFUSED`, `CONNECTION_CLOSED` or `BAD_MESSAGE`).
   */
  reconnecting?(attempt: number, delayMs: number, reason: ClientError): void;
  /**
   * The subscription ended on an error after the server had accepted it: the server refused the
   * resubscription (`error.code` is its code), or the client gave up reconnecting (`UNAVAILABLE`, with the
   * last connection failure as `error.cause`).
   */
  error?(error: ClientError): void;
}

/** An open subscription. */
export interface Subscription {
  /** The last seq handed to the application (0 before any). */
  readonly lastSeq: number;
  close(): void;
}

const OPEN = 1;
/**
 * How long after an error event the connection counts as gone if no close event came. Browsers and `ws`
 * send the close event right after; Node 22's WebSocket never does after a refused connect.
 */
const CLOSE_AFTER_ERROR_MS = 100;
/** A token is refreshed this long before it expires (or a quarter of its remaining life, if shorter). */
const REFRESH_BEFORE_MS = 30_000;
/** Timers take at most 2^31 − 1 ms: a refresh due later is scheduled in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ClientSubscription implements Subscription {
  lastSeq = 0;
  /** Settles once: resolved when the server first accepts the subscription, else rejected. */
  readonly accepted: Promise<Subscription>;
  private settle!: { resolve(sub: Subscription): void; reject(err: ClientError): void };
  private wasAccepted = false;
  private ws: WebSocketLike | undefined;
  /** Closed by the application, or ended by the server or by a failure: nothing reconnects. */
  private ended = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** For `*`: the seq the next frame must have (0 = not known yet), from `liveFrom` on. */
  private expect = 0;
  /** The first seq of the contiguous part of the stream: last values before it are not contiguous. */
  private liveFrom = Number.MAX_SAFE_INTEGER;
  private wentLive = false;
  private readonly view = new FrameView();
  /** The server accepted this connection's token. */
  private authed = false;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    private readonly Ctor: WebSocketConstructor,
    private readonly options: SubscribeOptions,
    private readonly handlers: SubscriptionHandlers,
    private readonly backoff: Backoff | false,
    private readonly forget: () => void,
    private readonly token: TokenSource | undefined = undefined,
  ) {
    this.accepted = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  connect(): void {
    let ws: WebSocketLike;
    try {
      ws = new this.Ctor(this.url);
    } catch (err) {
      // A URL the implementation refuses (browsers throw a SyntaxError).
      this.lost(new ClientError("CONNECTION_FAILED", (err as Error).message));
      return;
    }
    this.ws = ws;
    this.authed = false;
    ws.binaryType = "arraybuffer";
    // The error event (when there is one) says why; the close event that follows ends the connection.
    let failure: ClientError | undefined;
    ws.onopen = () => {
      if (ws === this.ws) this.start(ws);
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      if (typeof ev.data !== "string") {
        this.onFrames(new Uint8Array(ev.data as ArrayBuffer));
        return;
      }
      const msg = parseControl(ev.data);
      if (typeof msg === "string") this.drop(new ClientError("BAD_MESSAGE", `the server sent ${msg}`));
      else this.onControl(msg);
    };
    let gone = false;
    const end = (why: ClientError) => {
      if (gone) return;
      gone = true;
      if (ws === this.ws) this.lost(why);
    };
    ws.onerror = (ev) => {
      failure ??= socketFailure(ev);
      // Node 22's WebSocket (undici) fires no close event after a failed connection: don't wait for one.
      setTimeout(() => end(failure!), CLOSE_AFTER_ERROR_MS);
    };
    ws.onclose = (ev) => end(failure ?? closeFailure(ev));
  }

  close(): void {
    this.stop();
    // No-op once accepted.
    this.settle.reject(
      new ClientError("CLOSED", "the subscription was closed before the server accepted it"),
    );
  }

  /** Sends the token first when there is one (the server reads it before anything else), then the request. */
  private start(ws: WebSocketLike): void {
    if (this.token === undefined) {
      ws.send(JSON.stringify(this.request()));
      return;
    }
    this.tokenNow().then(
      (token) => {
        if (ws !== this.ws) return;
        ws.send(JSON.stringify({ op: "auth", token }));
        ws.send(JSON.stringify(this.request()));
      },
      (err: unknown) => {
        const why = `the token callback failed: ${(err as Error)?.message ?? err}`;
        if (ws === this.ws) this.drop(new ClientError("CONNECTION_FAILED", why, { cause: err }));
      },
    );
  }

  private tokenNow(): Promise<string> {
    const source = this.token!;
    return typeof source === "function" ? Promise.resolve().then(source) : Promise.resolve(source);
  }

  /** Asks the token callback for a fresh token before `exp` (seconds) and sends it on this connection. */
  private scheduleRefresh(exp: number | undefined): void {
    clearTimeout(this.refreshTimer);
    if (exp === undefined || typeof this.token !== "function") return;
    const left = exp * 1000 - Date.now();
    const delay = Math.max(0, left - Math.min(REFRESH_BEFORE_MS, left / 4));
    if (delay > MAX_TIMER_MS) {
      this.refreshTimer = setTimeout(() => this.scheduleRefresh(exp), MAX_TIMER_MS);
      return;
    }
    const ws = this.ws;
    this.refreshTimer = setTimeout(() => {
      this.tokenNow().then(
        (token) => {
          if (ws !== undefined && ws === this.ws && ws.readyState === OPEN) {
            ws.send(JSON.stringify({ op: "auth", token }));
          }
        },
        // No fresh token: the server closes the connection at exp, and reconnecting asks again.
        () => {},
      );
    }, delay);
  }

  /** The first request, or after a loss: a replay from the next seq that turns live. */
  private request(): Record<string, unknown> {
    const o = this.options;
    const symbols = o.symbols === "*" ? ["*"] : o.symbols;
    const base = { op: "subscribe", id: 1, symbols, format: "flatbuffers", policy: o.policy };
    const resumeLive = o.feed === undefined || o.feed === "realtime" || o.live === true;
    if (this.lastSeq > 0 && (resumeLive || o.feed === "historical")) {
      return {
        ...base,
        feed: "historical",
        from: { seq: this.lastSeq + 1 },
        to: position(o.to),
        speed: o.speed,
        live: resumeLive,
      };
    }
    return {
      ...base,
      feed: o.feed ?? "realtime",
      from: position(o.from),
      to: position(o.to),
      speed: o.speed,
      live: o.live,
    };
  }

  private onControl(msg: Control): void {
    switch (msg.op) {
      case "subscribed":
        this.attempt = 0;
        // For `*`, live frames follow on from the server's newest seq (last values come before them).
        if (msg.feed === "realtime" && msg.seq !== undefined) this.liveFrom = msg.seq + 1;
        else if (msg.feed === "historical" && msg.fromSeq !== undefined) this.liveFrom = msg.fromSeq;
        this.expect = this.liveFrom;
        this.wasAccepted = true;
        this.settle.resolve(this);
        return;
      case "replay_done":
        if (!msg.live) {
          this.stop();
          this.handlers.done?.(msg.lastSeq);
        } else if (this.options.live === true && !this.wentLive) {
          // A resubscription after a loss turns live again: the application heard it the first time.
          this.wentLive = true;
          this.handlers.live?.(msg.lastSeq);
        }
        return;
      case "gap":
        // Seqs retention removed are gone for good: asking again would get the same gap, forever.
        if (msg.retired) this.handlers.retired?.(msg.from, msg.to);
        // Frames were skipped for us: start again from the last one we have.
        else this.resubscribe();
        return;
      case "authenticated":
        this.authed = true;
        this.scheduleRefresh(msg.exp);
        return;
      case "error":
        if (msg.id === undefined && this.recoverable(msg.code)) {
          this.drop(new ClientError(msg.code, msg.message));
          return;
        }
        this.fail(new ClientError(msg.code, msg.message, { incident: msg.incident }));
        return;
      case "other":
        return;
    }
  }

  private onFrames(bytes: Uint8Array): void {
    for (let off = 0; off < bytes.length;) {
      const len = frameLength(bytes, off);
      const seq = frameSeq(bytes, off);
      if (seq !== 0 && seq > this.lastSeq) {
        if (this.options.symbols === "*" && seq >= this.liveFrom) {
          // Every seq comes to a `*` subscription: a jump is a loss even without a gap message.
          if (seq > this.expect) {
            this.resubscribe();
            return;
          }
          this.expect = seq + 1;
        }
        this.lastSeq = seq;
        this.handlers.frame(this.view.wrap(bytes, off), seq, bytes.subarray(off, off + len));
      }
      off += len;
    }
  }

  /**
   * Whether a connection-level refusal is worth a new connection: the token expired or its refresh was
   * refused while the callback can give another, or the subject's connection limit was reached while
   * resuming (the connection being replaced may still count). A first token refused ends the subscription.
   */
  private recoverable(code: string): boolean {
    if (code === "UNAUTHORIZED") return this.authed && typeof this.token === "function";
    return code === "LIMIT_REACHED" && !this.authed && this.wasAccepted;
  }

  /** Leaves the current connection and subscribes again at once, from the next seq. */
  private resubscribe(): void {
    this.leave("resubscribing");
    this.connect();
  }

  /** Leaves a connection that cannot be trusted any more, then recovers as from any lost connection. */
  private drop(reason: ClientError): void {
    this.leave(reason.code);
    this.lost(reason);
  }

  /** The connection failed or was lost: reconnect with backoff, or end the subscription. */
  private lost(reason: ClientError): void {
    this.ws = undefined;
    if (this.ended) return;
    const why = describeFailure(reason);
    if (!this.wasAccepted) {
      // The first connection is not retried: a wrong URL or a server that is down fails fast.
      this.fail(new ClientError("UNAVAILABLE", `cannot subscribe at ${this.url}: ${why}`, { cause: reason }));
      return;
    }
    const b = this.backoff;
    if (b === false || this.attempt >= b.maxAttempts) {
      const after = b === false ? "reconnecting is off" : `gave up after ${this.attempt} reconnect attempts`;
      this.fail(new ClientError("UNAVAILABLE", `connection lost, ${after}: ${why}`, { cause: reason }));
      return;
    }
    this.attempt++;
    const delay = backoffDelay(b, this.attempt);
    this.handlers.reconnecting?.(this.attempt, delay, reason);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Ends the subscription on `err`: the application hears it once, by `error` or by the rejection. */
  private fail(err: ClientError): void {
    this.stop();
    if (this.wasAccepted) this.handlers.error?.(err);
    else this.settle.reject(err);
  }

  private stop(): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.forget();
    this.leave("client closed");
  }

  /** Closes the current connection, whose events are ignored from now on. */
  private leave(why: string): void {
    const ws = this.ws;
    this.ws = undefined;
    clearTimeout(this.refreshTimer);
    if (ws !== undefined && ws.readyState <= OPEN) ws.close(1000, why);
  }
}

function position(p: Position | undefined): Record<string, unknown> | undefined {
  if (p === undefined) return undefined;
  if ("seq" in p) return { seq: p.seq };
  return { time: p.time instanceof Date ? p.time.toISOString() : p.time };
}
