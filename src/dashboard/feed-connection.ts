/**
 * The page's one WebSocket to the daemon's `/v1/feed`: a real-time `*` subscription in JSON with the
 * `conflate` slow-consumer policy — a page that falls behind gets the latest value of each symbol rather
 * than a backlog (or, as tickring/client would, a replay of every seq it missed: the dashboard wants now,
 * not completeness). With a token, it is the first message (`{"op":"auth"}`), never in the URL. A lost
 * connection is opened again after a pause that grows to 15 s; a refused token (close 4001) is not retried
 * but handed to `onUnauthorized`.
 */
import { type ControlJson, type FrameJson, parseFeedMessage } from "./frames.js";

/** What the connection tells the page. */
export interface FeedHandlers {
  /** A run of frames, in seq order. */
  frames(frames: FrameJson[]): void;
  /** The subscription is live; frames above `seq` are new, those at or below it are last values. */
  subscribed(seq: number): void;
  /** The daemon admitted the connection (auth off, or the token verified): what needs a token may go. */
  admitted(): void;
  /** A state worth showing: connecting, live, a refusal. */
  status(text: string, ok: boolean): void;
  /** The token is missing, bad or expired (`message` says which). */
  unauthorized(message: string): void;
}

/** First pause before reconnecting, doubled up to {@link MAX_PAUSE_MS}. */
const FIRST_PAUSE_MS = 1000;
const MAX_PAUSE_MS = 15_000;
/** Close codes after which reconnecting with the same token is pointless (docs/protocol.md). */
const UNAUTHORIZED = 4001;
const FORBIDDEN = 4003;

export class FeedConnection {
  private ws: WebSocket | undefined;
  private pause = FIRST_PAUSE_MS;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  /** The last error the daemon sent before closing, to explain the close. */
  private lastError: ControlJson | undefined;

  constructor(
    private readonly url: string,
    private readonly token: () => string | undefined,
    private readonly on: FeedHandlers,
  ) {}

  /** Opens the connection (again), unless it is open. */
  start(): void {
    this.stopped = false;
    clearTimeout(this.timer);
    if (this.ws !== undefined) return;
    this.on.status("connecting…", false);
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.lastError = undefined;
    ws.onopen = () => {
      const token = this.token();
      if (token !== undefined) ws.send(JSON.stringify({ op: "auth", token }));
      ws.send(JSON.stringify({ op: "subscribe", id: 1, symbols: ["*"], format: "json", policy: "conflate" }));
    };
    ws.onmessage = (e: MessageEvent<string>) => {
      const m = parseFeedMessage(e.data);
      if ("frames" in m) this.on.frames(m.frames);
      else this.control(m.control);
    };
    ws.onclose = (e) => this.closed(ws, e.code);
  }

  /** Closes the connection and stops reconnecting. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(1000, "page closed the connection");
  }

  private control(c: ControlJson): void {
    switch (c.op) {
      case "authenticated":
        this.on.admitted();
        return;
      case "subscribed":
        this.pause = FIRST_PAUSE_MS;
        this.on.admitted();
        this.on.subscribed(c.seq ?? 0);
        this.on.status("live", true);
        return;
      case "error":
        this.lastError = c;
        // A refused subscription on an admitted connection (a token without market data) stays open.
        if (c.code !== "UNAUTHORIZED" && c.id === 1) {
          this.on.admitted();
          this.on.status(`feed refused: ${c.message ?? c.code}`, false);
        }
        return;
      default:
        return;
    }
  }

  private closed(ws: WebSocket, code: number): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    if (this.stopped) return;
    if (code === UNAUTHORIZED || code === FORBIDDEN) {
      this.stopped = true;
      this.on.status("token needed", false);
      this.on.unauthorized(this.lastError?.message ?? "this daemon needs a token");
      return;
    }
    this.on.status(`disconnected (${code}): retrying in ${Math.round(this.pause / 1000)}s`, false);
    this.timer = setTimeout(() => this.start(), this.pause);
    this.pause = Math.min(MAX_PAUSE_MS, this.pause * 2);
  }
}
