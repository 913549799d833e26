/**
 * Real-time fan-out inside one worker: takes runs of frames straight from the ring and hands views of
 * them to sockets. No frame is re-encoded or copied by us; uWS copies into each socket's buffer.
 *
 * - A subscriber to every symbol (`["*"]`, binary) gets the whole run as one message, unless it chose frame
 *   types or bar intervals or its token holds it to some symbols: then it gets the frames that match, as a
 *   subscriber to some symbols does.
 * - A subscriber to some symbols gets the frames that match; adjacent matches are merged, and
 *   non-adjacent ones are sent as fragments of one WebSocket message (no copy to join them).
 * - `format:"json"` subscribers get the same runs as JSON arrays (one text message per run): each frame is
 *   rendered once per worker, into a run buffer shared by all of them, and a subscriber's frames are
 *   pieces of it (see json-run.ts and sendJsonPieces).
 * - Over its backpressure limit a subscriber is handled by its policy: `drop` (skip, then a `gap`
 *   message with the skipped seqs), `conflate` (keep the latest frame per symbol until the socket
 *   drains) or `disconnect`.
 */
import type { SlowConsumerPolicy } from "../config/options.js";
import { frameLength, frameSeq, frameSymbolKey } from "../frame/codec.js";
import { JsonRenderer } from "../frame/json-render.js";
import type { Socket } from "../transport/socket.js";
import { type ByteBudget, LastValueCache, type LastValues } from "./last-value-cache.js";
import { JsonRun } from "./json-run.js";
import { type PieceSender, sendJsonPieces, sendPieces } from "./send.js";
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

/**
 * Bytes a subscriber's socket may hold unsent before its slow-consumer policy applies: the worker lowers it
 * below `--backpressure-bytes` as connections add up, so what all its stalled clients hold stays within the
 * worker's share of `--send-buffer-bytes` (see SendBudget in the edge).
 */
export interface SendLimit {
  bytes: number;
}

/** Counters at zero. */
export function newFeedCounters(): FeedCounters {
  return { framesSent: 0, bytesSent: 0, messagesSent: 0, drops: 0, gaps: 0, conflated: 0, disconnects: 0 };
}

/** Frames sent outside a run (last values, a conflated backlog) go in messages of about this size. */
const CHUNK_BYTES = 64 * 1024;
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
  /** Subscriptions to every symbol that take every frame: they get whole runs. */
  private readonly wildcard: RealtimeSubscription[] = [];
  /**
   * Subscriptions to every symbol that their filter holds to some frames (types, bar intervals, a token's
   * entitlements): matched frame by frame.
   */
  private readonly screened: RealtimeSubscription[] = [];
  /** Filtered subscriptions by the symbol keys they want. */
  private readonly byKey = new Map<number, RealtimeSubscription[]>();
  private readonly touched: RealtimeSubscription[] = [];
  /** JSON subscriptions, and those of them to every symbol (they take every frame of every run). */
  private jsonSubs = 0;
  private wildcardJson = 0;
  /** The current run's JSON, rendered once for every JSON subscriber of this worker. */
  private readonly json: JsonRun;
  /** JSON of frames sent outside a run (last values, a conflated backlog), which may happen mid-run. */
  private readonly extra: JsonRun;
  /** Binary frames sent outside a run, joined into messages of up to {@link CHUNK_BYTES}. */
  private staging = new Uint8Array(CHUNK_BYTES);
  /** The current run's frames: its bytes, and where it lies in them (for conflating JSON subscribers). */
  private bytes: Uint8Array = new Uint8Array(0);
  private runStart = 0;
  private runEnd = 0;

  /**
   * @param lvc the worker's last values, updated from every frame fanned out.
   * @param conflation what every conflating subscriber of this worker may hold together; past it a
   *   conflating subscriber keeps no new symbol and is told of the frames it missed with a `gap`.
   */
  constructor(
    private readonly lvc: LastValueCache,
    private readonly limit: SendLimit,
    private readonly counters: FeedCounters,
    private readonly conflation: ByteBudget = { limit: Number.POSITIVE_INFINITY, used: 0 },
    renderer: JsonRenderer = new JsonRenderer(),
  ) {
    this.json = new JsonRun(renderer);
    this.extra = new JsonRun(renderer);
  }

  get size(): number {
    return this.subs.size;
  }

  /** The last values `sub` starts with: see {@link LastValueCache.lastValues}, within its send limit. */
  lastValuesFor(sub: RealtimeSubscription): LastValues {
    return this.lvc.lastValues(sub.filter, this.limit.bytes);
  }

  /**
   * Adds a subscription; it first gets `start` (see {@link lastValuesFor}) unless none is given (a replay
   * joining live, which has sent history already).
   */
  add(sub: RealtimeSubscription, start?: LastValues): void {
    this.subs.add(sub);
    if (sub.json) this.jsonSubs++;
    if (sub.json && sub.filter.takesAll) this.wildcardJson++;
    if (sub.symbols === null) (sub.filter.takesAll ? this.wildcard : this.screened).push(sub);
    else {
      for (const key of sub.symbols.keys()) {
        const list = this.byKey.get(key);
        if (list === undefined) this.byKey.set(key, [sub]);
        else list.push(sub);
      }
    }
    if (start !== undefined) this.sendFramesNow(sub, start.frames);
  }

  remove(sub: RealtimeSubscription): void {
    if (!this.subs.delete(sub)) return;
    sub.conflated?.clear();
    if (sub.json) this.jsonSubs--;
    if (sub.json && sub.filter.takesAll) this.wildcardJson--;
    if (sub.symbols === null) {
      const list = sub.filter.takesAll ? this.wildcard : this.screened;
      list.splice(list.indexOf(sub), 1);
    } else {
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
    this.runStart = start;
    this.runEnd = end;
    const json = this.json;
    json.reset();
    // Every frame's JSON is needed when someone takes every frame as JSON; otherwise only what filtered
    // JSON subscribers match, rendered when the first of them does.
    const renderAll = this.wildcardJson > 0;
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
      let jsonAt = renderAll ? json.add(bytes, off) : -1;
      const list = this.byKey.get(key);
      if (list !== undefined) jsonAt = this.offer(list, bytes, off, len, seq, key, jsonAt);
      if (this.screened.length > 0) this.offer(this.screened, bytes, off, len, seq, key, jsonAt);
      off += len;
    }
    json.close();
    for (let i = 0; i < this.wildcard.length; i++) {
      const sub = this.wildcard[i];
      sub.pieces[0] = sub.json ? 1 : start;
      sub.pieces[1] = sub.json ? json.end : end;
      sub.pieceCount = 1;
      sub.frames = runFrames;
      sub.firstSeq = runFirst;
      sub.lastSeq = runLast;
      this.flush(sub);
    }
    for (let i = 0; i < this.touched.length; i++) this.flush(this.touched[i]);
    this.touched.length = 0;
  }

  /** Tells every subscriber that seqs [from, to] will never come, and why. */
  reportGap(from: number, to: number, reason: string): void {
    const msg = `{"op":"gap","from":${from},"to":${to},"reason":"${reason}"}`;
    for (const sub of this.subs) this.sendControl(sub, msg);
    this.counters.gaps += this.subs.size;
  }

  /** Called on a socket's drain: a dropping subscriber reports its gap, a conflating one sends its backlog. */
  drained(sub: RealtimeSubscription): void {
    if (sub.conn.closed || sub.conn.ws.getBufferedAmount() >= this.limit.bytes) return;
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
      this.sendFramesNow(sub, frames);
    }
  }

  /**
   * Adds the frame at `bytes[off]` to the pieces of each of `subs` that matches it; returns where its JSON
   * is in the run (rendered by the first JSON subscriber that takes it), or −1.
   */
  private offer(
    subs: RealtimeSubscription[],
    bytes: Uint8Array,
    off: number,
    len: number,
    seq: number,
    key: number,
    jsonAt: number,
  ): number {
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i];
      if (!sub.filter.matches(bytes, off, key)) continue;
      if (!sub.json) this.addPiece(sub, off, len, seq);
      else {
        if (jsonAt < 0) jsonAt = this.json.add(bytes, off);
        this.addPiece(sub, jsonAt, this.json.end - jsonAt, seq);
      }
    }
    return jsonAt;
  }

  private addPiece(sub: RealtimeSubscription, off: number, len: number, seq: number): void {
    const n = sub.pieceCount;
    if (n === 0) {
      this.touched.push(sub);
      sub.firstSeq = seq;
      sub.frames = 0;
    } else if (sub.pieces[n * 2 - 1] === off) {
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
    if (ws.getBufferedAmount() >= this.limit.bytes) {
      this.overLimit(sub, n);
      return;
    }
    const total = sub.json
      ? sendJsonPieces(ws, this.json.buf, this.json.end, sub.pieces, n)
      : sendPieces(ws, sub.conn.sender, this.bytes, sub.pieces, n);
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
        const bytes = this.bytes;
        if (sub.json) {
          // A JSON subscriber's pieces are JSON: conflate the run's frames it matches instead.
          for (let off = this.runStart; off < this.runEnd; off += frameLength(bytes, off)) {
            if (sub.filter.matches(bytes, off)) this.conflate(sub, bytes, off);
          }
          return;
        }
        for (let i = 0; i < n; i++) {
          for (let off = sub.pieces[i * 2]; off < sub.pieces[i * 2 + 1]; off += frameLength(bytes, off)) {
            this.conflate(sub, bytes, off);
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

  /** Keeps the frame at `bytes[off]` as its symbol's latest for `sub`, or records it lost (budget spent). */
  private conflate(sub: RealtimeSubscription, bytes: Uint8Array, off: number): void {
    sub.conflated ??= new LastValueCache(this.conflation, "refuse");
    const seq = frameSeq(bytes, off);
    if (sub.conflated.update(frameSymbolKey(bytes, off), seq, bytes, off, frameLength(bytes, off))) {
      this.counters.conflated++;
      return;
    }
    // The worker's conflation budget is spent: this symbol's latest is lost, and the client told.
    if (sub.droppedFrom === 0) sub.droppedFrom = seq;
    sub.droppedTo = seq;
    this.counters.drops++;
  }

  /**
   * Sends whole frames held outside the ring (last values, a conflated backlog): as binary messages of a
   * frame each, or as one JSON array.
   */
  private sendFramesNow(sub: RealtimeSubscription, frames: Uint8Array[]): void {
    if (frames.length === 0 || sub.conn.closed) return;
    const ws = sub.conn.ws;
    let bytes = 0;
    let messages = 0;
    if (sub.json) {
      const json = this.extra;
      const send = () => {
        json.close();
        ws.send(json.buf.subarray(0, json.end + 1), false);
        bytes += json.end + 1;
        messages++;
        json.reset();
      };
      json.reset();
      for (const f of frames) {
        json.add(f, 0);
        if (json.end >= CHUNK_BYTES) send();
      }
      if (json.end > 1) send();
    } else {
      // Whole frames back to back are one binary message: a chunk per message, not a message per frame.
      let used = 0;
      const send = () => {
        ws.send(this.staging.subarray(0, used), true);
        bytes += used;
        messages++;
        used = 0;
      };
      ws.cork(() => {
        for (const f of frames) {
          if (used + f.length > this.staging.length) {
            if (used > 0) send();
            if (f.length > this.staging.length) this.staging = new Uint8Array(f.length);
          }
          this.staging.set(f, used);
          used += f.length;
        }
        if (used > 0) send();
      });
    }
    sub.active = true;
    this.counters.messagesSent += messages;
    this.counters.framesSent += frames.length;
    this.counters.bytesSent += bytes;
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
