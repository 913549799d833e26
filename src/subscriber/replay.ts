/**
 * One historical subscription: frames from history, filtered, sent in batches at the client's pace.
 *
 * - Memory is bounded: one history reader (1 MiB buffer) per replay, and nothing is read while the
 *   client's socket holds more than the backpressure limit; the socket's drain resumes it.
 * - `speed` N releases a frame at start + (ts_event − first ts_event) / N; `"max"` is unpaced.
 * - `to` (seq or time; times compare with ts_recv) ends it with `{"op":"replay_done","last_seq":N}`;
 *   without `to` it ends at the seq that was newest when it started.
 * - `live:true` is a replay-merge (as Aeron's ReplayMerge): the replay reads history until the next seq
 *   to send is the one after the newest this worker has fanned out from the ring, and in that same
 *   synchronous step the subscription joins the real-time feed. The worker is one thread, so no ring
 *   frame can be dispatched between the check and the join: no gap and no duplicate.
 */
import type { SlowConsumerPolicy } from "../config/options.js";
import { frameLength, frameTsEventApprox, frameTsRecvApprox } from "../frame/codec.js";
import type { FrameBatch } from "../storage/index.js";
import { type FeedClock, systemClock } from "./feed-clock.js";
import type { HistoryReader } from "./history.js";
import type { JsonRun } from "./json-run.js";
import type { FeedConnection, FeedCounters, SendLimit } from "./realtime-feed.js";
import type { ReplayScheduler } from "./replay-scheduler.js";
import { sendPieces } from "./send.js";
import type { FrameFilter } from "./frame-filter.js";

/** A replay resolved to seqs: `from` and `to` already mapped from times where given. */
export interface ReplayPlan {
  id: number;
  filter: FrameFilter;
  json: boolean;
  /** Last seq to send; for open-ended replays the newest when it started; for `live` ones unbounded. */
  toSeq: number;
  /** Ends the replay at the first frame with a later ts_recv, when `to` was a time. */
  toTimeNs: number;
  speed: "max" | number;
  live: boolean;
  /** The slow-consumer policy once live. */
  policy: SlowConsumerPolicy;
}

/** What a replay needs of its worker. */
export interface ReplayHost {
  /** The newest seq the worker has fanned out from the ring. */
  liveSeq(): number;
  /** Joins the real-time feed; called when the replay has sent every seq up to liveSeq(). */
  goLive(replay: HistoricalReplay): void;
  /** The replay ended (done, or its connection closed); the worker forgets it. */
  ended(replay: HistoricalReplay): void;
  /** Reading history failed (a corrupt record, an I/O error): the replay ended; tell its client. */
  failed(replay: HistoricalReplay, err: unknown): void;
  /** Where JSON batches are rendered: one per worker, used synchronously by one replay at a time. */
  readonly json: JsonRun;
  /** Runs the worker's replays in turns. */
  readonly scheduler: ReplayScheduler;
}

const MAX_PIECES = 256;
const STAGING_BYTES = 64 * 1024;
/** Frames due this close to now are due now (see sendFromBatch). */
const DUE_SLACK_MS = 0.01;
/** How often a live replay that reached the end of the WAL looks again, ms. */
const TAIL_POLL_MS = 1;

export class HistoricalReplay {
  private batch: FrameBatch | null = null;
  private index = 0;
  private finished = false;
  /** Queued for a step (the scheduler's). */
  queued = false;
  private timer: unknown;
  private readonly pieces = new Int32Array(MAX_PIECES * 2);
  /**
   * Binary frames are copied here and sent as one contiguous message. WAL records have headers between
   * frames, and sending them as fragments costs the client a frame parse per fragment: bench/replay
   * measured the copy (once per frame, this subscriber's own) as the cheaper of the two.
   */
  private readonly staging = new Uint8Array(STAGING_BYTES);
  private startWallMs = 0;
  private startTsEvent = 0;
  /** Frames sent, for stats and the end message. */
  sent = 0;

  constructor(
    readonly plan: ReplayPlan,
    readonly conn: FeedConnection,
    private readonly reader: HistoryReader,
    private readonly host: ReplayHost,
    private readonly limit: SendLimit,
    private readonly counters: FeedCounters,
    private readonly clock: FeedClock = systemClock,
  ) {}

  get id(): number {
    return this.plan.id;
  }

  /** The seq of the next frame this replay would send. */
  private get nextSeq(): number {
    return this.batch !== null && this.index < this.batch.count
      ? this.batch.firstSeq + this.index
      : this.reader.nextSeq;
  }

  /**
   * Asks for a turn: the worker's {@link ReplayScheduler} runs {@link step} until the replay waits. Call it
   * again on drain. Safe to call at any time.
   */
  pump(): void {
    if (this.finished) return;
    this.clock.cancel(this.timer);
    this.timer = undefined;
    this.host.scheduler.wake(this);
  }

  /**
   * One step: one read of history, or one message sent. Resolves true when another step could follow at
   * once, false when the replay waits (for the socket to drain, the next frame's due time, the WAL to grow)
   * or ended.
   */
  async step(): Promise<boolean> {
    if (this.finished) return false;
    if (this.conn.closed) {
      this.stop();
      return false;
    }
    if (this.conn.ws.getBufferedAmount() >= this.limit.bytes) return false;
    if (this.plan.live && this.nextSeq > this.host.liveSeq()) {
      this.joinLive();
      return false;
    }
    if (this.batch === null || this.index >= this.batch.count) {
      const maxSeq = this.plan.live ? this.host.liveSeq() : this.plan.toSeq;
      if (this.nextSeq > maxSeq) {
        this.done();
        return false;
      }
      this.batch = await this.reader.read(maxSeq);
      this.index = 0;
      if (this.batch === null) {
        // The WAL's end: the sequencer has not written that far yet (or it is being flushed).
        this.timer = this.clock.after(TAIL_POLL_MS, () => this.pump());
        return false;
      }
      return true;
    }
    const waitMs = this.sendFromBatch();
    if (waitMs > 0) {
      this.timer = this.clock.after(waitMs, () => this.pump());
      return false;
    }
    return true;
  }

  /** A step failed (history could not be read): this replay alone ends, and its client is told. */
  fail(err: unknown): void {
    this.stop();
    this.host.failed(this, err);
  }

  /** Stops without an end message (the connection closed or the client unsubscribed). */
  stop(): void {
    this.finished = true;
    this.clock.cancel(this.timer);
    this.reader.close();
    this.host.ended(this);
  }

  /**
   * Sends the current batch's frames from `index` as one message, up to the end of the batch, the `to`
   * bound or the first frame not yet due. Returns ms to wait for that frame, or 0. Past the `to` bound
   * the rest of the batch is dropped, so the replay ends (`toSeq` is lowered to the last frame before it).
   */
  private sendFromBatch(): number {
    const b = this.batch!;
    const { filter, speed } = this.plan;
    const byTime = this.plan.toTimeNs !== Number.POSITIVE_INFINITY;
    let n = 0;
    let bytes = 0;
    let wait = 0;
    let i = this.index;
    for (; i < b.count && n < MAX_PIECES; i++) {
      const off = b.offsets[i];
      const seq = b.firstSeq + i;
      if (seq > this.plan.toSeq || (byTime && frameTsRecvApprox(b.bytes, off) > this.plan.toTimeNs)) {
        this.plan.toSeq = seq - 1;
        this.reader.close();
        i = b.count;
        break;
      }
      if (!filter.matches(b.bytes, off)) continue;
      if (speed !== "max") {
        const ts = frameTsEventApprox(b.bytes, off);
        if (this.startWallMs === 0) {
          this.startWallMs = this.clock.nowNs() / 1e6;
          this.startTsEvent = ts;
        }
        const due = this.startWallMs + (ts - this.startTsEvent) / 1e6 / speed;
        const now = this.clock.nowNs() / 1e6;
        // ts_event read as a double is within 256 ns of the truth near 2^61: a frame due within ten
        // microseconds is due now, and the timer never fires before the next one is.
        if (due > now + DUE_SLACK_MS) {
          wait = Math.max(1, Math.ceil(due - now));
          if (n > 0) break;
          this.index = i;
          return wait;
        }
      }
      const len = frameLength(b.bytes, off);
      if (bytes + len > STAGING_BYTES && n > 0) break;
      this.pieces[n * 2] = off;
      this.pieces[n * 2 + 1] = off + len;
      bytes += len;
      n++;
    }
    this.index = i;
    if (n > 0) this.send(b.bytes, n);
    return wait;
  }

  private send(bytes: Uint8Array, n: number): void {
    const ws = this.conn.ws;
    const p = this.pieces;
    let total = 0;
    if (this.plan.json) {
      // The batch as one JSON array, rendered into the worker's replay buffer (used synchronously, shared).
      const json = this.host.json;
      json.reset();
      for (let k = 0; k < n; k++) json.add(bytes, p[k * 2]);
      json.close();
      total = json.end + 1;
      ws.send(json.buf.subarray(0, total), false);
      this.counters.messagesSent++;
    } else if (n === 1) {
      // A single frame (possibly larger than the staging buffer) goes straight from the reader's buffer.
      total = sendPieces(ws, this.conn.sender, bytes, p, n);
      this.counters.messagesSent++;
    } else {
      for (let k = 0; k < n; k++) {
        this.staging.set(bytes.subarray(p[k * 2], p[k * 2 + 1]), total);
        total += p[k * 2 + 1] - p[k * 2];
      }
      ws.send(this.staging.subarray(0, total), true);
      this.counters.messagesSent++;
    }
    this.sent += n;
    this.counters.framesSent += n;
    this.counters.bytesSent += total;
  }

  private done(): void {
    if (!this.conn.closed) {
      this.conn.ws.send(`{"op":"replay_done","id":${this.plan.id},"last_seq":${this.plan.toSeq}}`, false);
    }
    this.stop();
  }

  private joinLive(): void {
    const last = this.nextSeq - 1;
    this.finished = true;
    this.reader.close();
    if (!this.conn.closed)
      this.conn.ws.send(`{"op":"replay_done","id":${this.plan.id},"last_seq":${last},"live":true}`, false);
    this.host.goLive(this);
  }
}
