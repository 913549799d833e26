/**
 * Real-time fan-out inside one worker: takes runs of frames straight from the ring and hands views of
 * them to sockets. No frame is re-encoded or copied by us; uWS copies into each socket's buffer.
 *
 * - A subscriber to every symbol (`["*"]`, binary) gets the whole run as one message.
 * - A subscriber to some symbols gets the frames that match; adjacent matches are merged, and
 *   non-adjacent ones are sent as fragments of one WebSocket message (no copy to join them).
 * - `format:"json"` subscribers get each matching frame rendered once per worker, shared by all of them.
 * - Over its backpressure limit a subscriber is handled by its policy: `drop` (skip, then a `gap`
 *   message with the skipped seqs), `conflate` (keep the latest frame per symbol until the socket
 *   drains) or `disconnect`.
 */
import type { SlowConsumerPolicy } from "../config/options.js";
import { FrameView, frameLength, frameSeq, frameSymbolKey } from "../frame/codec.js";
import { frameToObject } from "../frame/json.js";
import type { Socket } from "../transport/socket.js";
import { type ByteBudget, LastValueCache } from "./last-value-cache.js";
import { type PieceSender, sendPieces } from "./send.js";
import type { FrameFilter } from "./frame-filter.js";

/** What the feed needs of a connection; the worker keeps one per socket. */
export interface FeedConnection {
  ws: Socket;
  /** Set once the connection is closing: nothing more is sent on it. */
  closed: boolean;
  sender: PieceSender;
  /** A close waiting for the socket's buffer to drain, so the close frame is not stuck behind data. */
  pendingClose?: { code: number; reason: string };
}

/**
 * Closes `conn` with a close frame the client will see: at once when nothing is buffered, otherwise once the
 * buffer drains ({@link finishPendingClose}, called on drain). A close frame queued behind buffered data is
 * lost when uWS gives up on a client that stopped reading (the client then sees 1006, not `code`); with
 * nothing more sent after it, a client that resumes reading gets the code. Nothing is sent meanwhile.
 */
export function closeWhenDrained(conn: FeedConnection, code: number, reason: string): void {
  if (conn.closed) return;
  conn.closed = true;
  if (conn.ws.getBufferedAmount() === 0) conn.ws.end(code, reason);
  else conn.pendingClose = { code, reason };
}

/** Sends a close that {@link closeWhenDrained} deferred, once the socket's buffer is empty. */
export function finishPendingClose(conn: FeedConnection): void {
  const pending = conn.pendingClose;
  if (pending === undefined || conn.ws.getBufferedAmount() > 0) return;
  conn.pendingClose = undefined;
  conn.ws.end(pending.code, pending.reason);
}

/** Counters the feed bumps; the worker mirrors them into shared state. */
export interface FeedCounters {
  framesSent: number;
  bytesSent: number;
  messagesSent: number;
  drops: number;
  gaps: number;
  conflated: number;
  disconnects: number;
}

/** Most separate pieces one subscriber's message may have before it is sent early. */
const MAX_PIECES = 256;

/** One real-time subscription of one connection. */
export class RealtimeSubscription {
  /** Symbol bytes by symbol key, or null for every symbol (the filter's). */
  readonly symbols: Map<number, Uint8Array[]> | null;
  /** Pieces of the current run to send: [start, end) pairs of ring offsets. */
  readonly pieces = new Int32Array(MAX_PIECES * 2);
  pieceCount = 0;
  /** Frames in the pieces. */
  frames = 0;
  firstSeq = 0;
  lastSeq = 0;
  /** The first seq skipped by `drop`, 0 when not dropping. */
  droppedFrom = 0;
  droppedTo = 0;
  /** `conflate`: the latest pending frame per symbol, copied out of the ring. */
  conflated: LastValueCache | null = null;
  /** Set when a message was sent since the last heartbeat tick. */
  active = false;

  constructor(
    readonly id: number,
    readonly conn: FeedConnection,
    readonly filter: FrameFilter,
    readonly json: boolean,
    readonly policy: SlowConsumerPolicy,
  ) {
    this.symbols = filter.symbols;
  }
}

export class RealtimeFeed {
  private readonly subs = new Set<RealtimeSubscription>();
  private readonly wildcard: RealtimeSubscription[] = [];
  /** Filtered subscriptions by the symbol keys they want. */
  private readonly byKey = new Map<number, RealtimeSubscription[]>();
  private readonly touched: RealtimeSubscription[] = [];
  private readonly view = new FrameView();
  /** JSON of frames of the current run by ring offset: rendered once, shared by every JSON subscriber. */
  private readonly jsonText = new Map<number, string>();
  /** `*` subscriptions sent frame by frame: JSON ones, and those filtering types or bar intervals. */
  private pieceWildcards = 0;
  private bytes: Uint8Array = new Uint8Array(0);

  /**
   * @param lvc the worker's last values, updated from every frame fanned out.
   * @param conflation what every conflating subscriber of this worker may hold together; past it a
   *   conflating subscriber keeps no new symbol and is told of the frames it missed with a `gap`.
   */
  constructor(
    private readonly lvc: LastValueCache,
    private readonly limitBytes: number,
    private readonly counters: FeedCounters,
    private readonly conflation: ByteBudget = { limit: Number.POSITIVE_INFINITY, used: 0 },
  ) {}

  get size(): number {
    return this.subs.size;
  }

  /** True once the last-value cache dropped a symbol to stay in its budget: a new subscriber may miss some. */
  get lastValuesPartial(): boolean {
    return this.lvc.evicted > 0;
  }

  /**
   * Adds a subscription; unless `lastValues` is false (a replay joining live, which has sent history
   * already), it first gets the last value of each of its symbols.
   */
  add(sub: RealtimeSubscription, lastValues = true): void {
    this.subs.add(sub);
    if (sub.symbols === null && (sub.json || !sub.filter.takesAll)) this.pieceWildcards++;
    if (sub.symbols === null) this.wildcard.push(sub);
    else {
      for (const key of sub.symbols.keys()) {
        const list = this.byKey.get(key);
        if (list === undefined) this.byKey.set(key, [sub]);
        else list.push(sub);
      }
    }
    if (!lastValues) return;
    const frames: Uint8Array[] = [];
    if (sub.symbols === null) frames.push(...this.lvc.all());
    else {
      for (const [key, symbols] of sub.symbols) for (const s of symbols) this.lvc.collect(key, s, frames);
    }
    sub.conn.ws.cork(() => {
      for (const frame of frames) {
        if (frame !== undefined && sub.filter.matches(frame, 0))
          this.sendFrameNow(sub, frame, 0, frame.length);
      }
    });
  }

  remove(sub: RealtimeSubscription): void {
    if (!this.subs.delete(sub)) return;
    sub.conflated?.clear();
    if (sub.symbols === null && (sub.json || !sub.filter.takesAll)) this.pieceWildcards--;
    if (sub.symbols === null) this.wildcard.splice(this.wildcard.indexOf(sub), 1);
    else {
      for (const key of sub.symbols.keys()) {
        const list = this.byKey.get(key)!;
        list.splice(list.indexOf(sub), 1);
        if (list.length === 0) this.byKey.delete(key);
      }
    }
  }

  /**
   * Fans out the run `bytes[start…end)` of whole frames. Returns nothing; sockets were written within
   * corks. The caller must have checked that the run is not about to be overwritten.
   */
  dispatch(bytes: Uint8Array, start: number, end: number): void {
    this.bytes = bytes;
    this.jsonText.clear();
    let runFirst = 0;
    let runLast = 0;
    let runFrames = 0;
    for (let off = start; off < end; runFrames++) {
      const len = frameLength(bytes, off);
      const seq = frameSeq(bytes, off);
      const key = frameSymbolKey(bytes, off);
      if (runFirst === 0) runFirst = seq;
      runLast = seq;
      this.lvc.update(key, seq, bytes, off, len);
      const list = this.byKey.get(key);
      if (list !== undefined) {
        for (let i = 0; i < list.length; i++) {
          const sub = list[i];
          if (sub.filter.matches(bytes, off, key)) this.addPiece(sub, off, len, seq);
        }
      }
      if (this.pieceWildcards > 0) {
        for (let i = 0; i < this.wildcard.length; i++) {
          const sub = this.wildcard[i];
          if ((sub.json || !sub.filter.takesAll) && sub.filter.matches(bytes, off, key))
            this.addPiece(sub, off, len, seq);
        }
      }
      off += len;
    }
    for (let i = 0; i < this.wildcard.length; i++) {
      const sub = this.wildcard[i];
      if (sub.json || !sub.filter.takesAll) continue;
      sub.pieces[0] = start;
      sub.pieces[1] = end;
      sub.pieceCount = 1;
      sub.frames = runFrames;
      sub.firstSeq = runFirst;
      sub.lastSeq = runLast;
      this.flush(sub);
    }
    for (let i = 0; i < this.touched.length; i++) this.flush(this.touched[i]);
    this.touched.length = 0;
  }

  /** Tells every subscriber that seqs [from, to] will never come (a lapped worker found them retired). */
  reportGap(from: number, to: number): void {
    const msg = `{"op":"gap","from":${from},"to":${to},"reason":"retired"}`;
    for (const sub of this.subs) this.sendControl(sub, msg);
    this.counters.gaps += this.subs.size;
  }

  /** Called on a socket's drain: a dropping subscriber reports its gap, a conflating one sends its backlog. */
  drained(sub: RealtimeSubscription): void {
    if (sub.conn.closed || sub.conn.ws.getBufferedAmount() >= this.limitBytes) return;
    if (sub.droppedFrom !== 0) {
      const reason = sub.policy === "conflate" ? "conflation_budget" : "slow_consumer";
      this.sendControl(
        sub,
        `{"op":"gap","from":${sub.droppedFrom},"to":${sub.droppedTo},"reason":"${reason}"}`,
      );
      this.counters.gaps++;
      sub.droppedFrom = 0;
    }
    const pending = sub.conflated;
    if (pending !== null && pending.size > 0) {
      const frames = pending.all().map((f) => f.slice());
      pending.clear();
      sub.conn.ws.cork(() => {
        for (const f of frames) this.sendFrameNow(sub, f, 0, f.length);
      });
    }
  }

  private addPiece(sub: RealtimeSubscription, off: number, len: number, seq: number): void {
    const n = sub.pieceCount;
    if (n === 0) {
      this.touched.push(sub);
      sub.firstSeq = seq;
      sub.frames = 0;
    } else if (sub.pieces[n * 2 - 1] === off && !sub.json) {
      sub.pieces[n * 2 - 1] = off + len;
      sub.lastSeq = seq;
      sub.frames++;
      return;
    } else if (n === MAX_PIECES) {
      this.flush(sub);
      this.touched.push(sub);
      sub.firstSeq = seq;
      sub.frames = 0;
    }
    sub.frames++;
    const k = sub.pieceCount;
    sub.pieces[k * 2] = off;
    sub.pieces[k * 2 + 1] = off + len;
    sub.pieceCount = k + 1;
    sub.lastSeq = seq;
  }

  /** Sends a subscriber's pieces of the current run, or applies its slow-consumer policy. */
  private flush(sub: RealtimeSubscription): void {
    const n = sub.pieceCount;
    sub.pieceCount = 0;
    if (n === 0 || sub.conn.closed) return;
    const ws = sub.conn.ws;
    if (sub.droppedFrom !== 0 || (sub.conflated !== null && sub.conflated.size > 0)) this.drained(sub);
    if (ws.getBufferedAmount() >= this.limitBytes) {
      this.overLimit(sub, n);
      return;
    }
    const bytes = this.bytes;
    const pieces = sub.pieces;
    if (sub.json) {
      ws.cork(() => {
        for (let i = 0; i < n; i++)
          this.sendFrameNow(sub, bytes, pieces[i * 2], pieces[i * 2 + 1] - pieces[i * 2]);
      });
      return;
    }
    const total = sendPieces(ws, sub.conn.sender, bytes, pieces, n);
    sub.active = true;
    this.counters.messagesSent++;
    this.counters.bytesSent += total;
    this.counters.framesSent += sub.frames;
  }

  private overLimit(sub: RealtimeSubscription, n: number): void {
    switch (sub.policy) {
      case "drop":
        if (sub.droppedFrom === 0) sub.droppedFrom = sub.firstSeq;
        sub.droppedTo = sub.lastSeq;
        this.counters.drops += sub.frames;
        return;
      case "conflate": {
        sub.conflated ??= new LastValueCache(this.conflation, "refuse");
        const bytes = this.bytes;
        for (let i = 0; i < n; i++) {
          for (let off = sub.pieces[i * 2]; off < sub.pieces[i * 2 + 1]; off += frameLength(bytes, off)) {
            const seq = frameSeq(bytes, off);
            if (sub.conflated.update(frameSymbolKey(bytes, off), seq, bytes, off, frameLength(bytes, off))) {
              this.counters.conflated++;
            } else {
              // The worker's conflation budget is spent: this symbol's latest is lost, and the client told.
              if (sub.droppedFrom === 0) sub.droppedFrom = seq;
              sub.droppedTo = seq;
              this.counters.drops++;
            }
          }
        }
        return;
      }
      case "disconnect":
        this.counters.disconnects++;
        closeWhenDrained(sub.conn, 1008, "slow consumer: backpressure limit reached");
        return;
    }
  }

  private sendFrameNow(sub: RealtimeSubscription, bytes: Uint8Array, off: number, len: number): void {
    if (sub.json) {
      let text = bytes === this.bytes ? this.jsonText.get(off) : undefined;
      if (text === undefined) {
        text = JSON.stringify(frameToObject(this.view.wrap(bytes, off)));
        if (bytes === this.bytes) this.jsonText.set(off, text);
      }
      sub.conn.ws.send(text, false);
    } else {
      sub.conn.ws.send(bytes.subarray(off, off + len), true);
    }
    sub.active = true;
    this.counters.framesSent++;
    this.counters.messagesSent++;
    this.counters.bytesSent += len;
  }

  private sendControl(sub: RealtimeSubscription, text: string): void {
    if (!sub.conn.closed) sub.conn.ws.send(text, false);
  }

  /** Each subscription that sent nothing since the last call, for heartbeats; resets the marks. */
  idle(out: RealtimeSubscription[]): void {
    out.length = 0;
    for (const sub of this.subs) {
      if (!sub.active) out.push(sub);
      sub.active = false;
    }
  }
}
