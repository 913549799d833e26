/**
 * The tickring client, for Node and browsers: `import { TickringClient } from "tickring/client"`.
 *
 * Each subscription has its own connection, so every binary frame on it is that subscription's and a
 * recovery never mixes old and new frames. The client remembers the last seq it handed the application;
 * after a reconnect, or a `gap` from the server (a slow client under `drop`), it subscribes again as a
 * historical replay from the next seq with `live:true`, and drops any frame at or below the last seq: the
 * application sees every seq once, in order. For `["*"]` it also notices a missing seq by itself.
 *
 * Frames are handed over as lazy FlatBuffers accessors over the received bytes: fields are decoded only
 * when read.
 */
import { FrameView, frameLength, frameSeq } from "../frame/codec.js";
import type { Frame } from "../frame/generated/tickring/fb/frame.js";

export type { Frame };

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

export interface ClientOptions {
  /** Server base URL, e.g. `ws://127.0.0.1:9420` (the `/v1/feed` path is added). */
  url: string;
  /** WebSocket implementation. @default globalThis.WebSocket, else the `ws` package */
  WebSocket?: WebSocketConstructor;
  /** Reconnect backoff. @default { initialMs: 100, maxMs: 5000 }; false = no reconnect */
  reconnect?: { initialMs: number; maxMs: number } | false;
}

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

export interface SubscriptionHandlers {
  /** A frame, once per seq, in seq order. `frame` is valid only during the call; copy `bytes` to keep it. */
  frame(frame: Frame, seq: number, bytes: Uint8Array): void;
  /** A bounded historical replay delivered its last frame. */
  done?(lastSeq: number): void;
  /** A server error for this subscription (bad request); the subscription is closed. */
  error?(code: string, message: string): void;
  /** The connection dropped; the client is reconnecting (`attempt` from 1). */
  reconnecting?(attempt: number, delayMs: number): void;
}

/** An open subscription. */
export interface Subscription {
  /** The last seq handed to the application (0 before any). */
  readonly lastSeq: number;
  close(): void;
}

const OPEN = 1;

export class TickringClient {
  private readonly url: string;
  private readonly backoff: { initialMs: number; maxMs: number } | false;
  private ctor: WebSocketConstructor | undefined;
  private readonly subs = new Set<ClientSubscription>();

  constructor(options: ClientOptions) {
    this.url = `${options.url.replace(/\/+$/, "").replace(/\/v1\/feed$/, "")}/v1/feed`;
    this.backoff = options.reconnect ?? { initialMs: 100, maxMs: 5000 };
    this.ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  }

  /** Subscribes; the handlers get frames from the moment the server accepts it. */
  async subscribe(options: SubscribeOptions, handlers: SubscriptionHandlers): Promise<Subscription> {
    this.ctor ??= (await import("ws")).default as unknown as WebSocketConstructor;
    const sub = new ClientSubscription(this.url, this.ctor, options, handlers, this.backoff, () =>
      this.subs.delete(sub),
    );
    this.subs.add(sub);
    sub.connect();
    return sub;
  }

  /** Closes every subscription. */
  close(): void {
    for (const sub of [...this.subs]) sub.close();
  }
}

class ClientSubscription implements Subscription {
  lastSeq = 0;
  private ws: WebSocketLike | undefined;
  private closed = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** For `*`: the seq the next frame must have (0 = not known yet), from `liveFrom` on. */
  private expect = 0;
  /** The first seq of the contiguous part of the stream: last values before it are not contiguous. */
  private liveFrom = Number.MAX_SAFE_INTEGER;
  private finished = false;
  private readonly view = new FrameView();

  constructor(
    private readonly url: string,
    private readonly Ctor: WebSocketConstructor,
    private readonly options: SubscribeOptions,
    private readonly handlers: SubscriptionHandlers,
    private readonly backoff: { initialMs: number; maxMs: number } | false,
    private readonly forget: () => void,
  ) {}

  connect(): void {
    const ws = new this.Ctor(this.url);
    this.ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onopen = () => ws.send(JSON.stringify(this.request()));
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      if (typeof ev.data === "string") this.onControl(JSON.parse(ev.data) as Record<string, unknown>);
      else this.onFrames(new Uint8Array(ev.data as ArrayBuffer));
    };
    ws.onerror = () => {};
    ws.onclose = () => {
      if (ws === this.ws) this.retry();
    };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.forget();
    if (this.ws !== undefined && this.ws.readyState <= OPEN) this.ws.close(1000, "client closed");
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

  private onControl(msg: Record<string, unknown>): void {
    switch (msg.op) {
      case "subscribed":
        this.attempt = 0;
        // For `*`, live frames follow on from the server's newest seq (last values come before them).
        if (msg.feed === "realtime") this.liveFrom = (msg.seq as number) + 1;
        else if (msg.feed === "historical") this.liveFrom = msg.from_seq as number;
        this.expect = this.liveFrom;
        return;
      case "replay_done":
        if (msg.live !== true) {
          this.finished = true;
          this.handlers.done?.(msg.last_seq as number);
          this.close();
        }
        return;
      case "gap":
        // Frames were skipped for us: start again from the last one we have.
        this.reconnectNow();
        return;
      case "error":
        this.handlers.error?.(msg.code as string, msg.message as string);
        this.close();
        return;
      default:
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
            this.reconnectNow();
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

  private reconnectNow(): void {
    const old = this.ws;
    this.ws = undefined;
    old?.close(1000, "resubscribing after a gap");
    this.connect();
  }

  private retry(): void {
    this.ws = undefined;
    if (this.closed || this.finished) return;
    if (this.backoff === false) {
      this.close();
      return;
    }
    this.attempt++;
    const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (this.attempt - 1));
    this.handlers.reconnecting?.(this.attempt, delay);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}

function position(p: Position | undefined): Record<string, unknown> | undefined {
  if (p === undefined) return undefined;
  if ("seq" in p) return { seq: p.seq };
  return { time: p.time instanceof Date ? p.time.toISOString() : p.time };
}
