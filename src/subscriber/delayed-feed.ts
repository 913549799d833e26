/**
 * The delayed feed of one worker: the real-time stream held back by `delay`, the way exchanges license
 * delayed data. A frame is released when `ts_recv + delay ≤ now`: ts_recv, because it is the sequencer's
 * own clock (monotonic in seq, never a publisher's), so release order is seq order and no publisher can
 * shorten the delay with a skewed ts_event.
 *
 * Frames come from the WAL, not memory, so an hour's delay costs disk, not RAM: one history reader
 * (bounded buffer) sits at now − delay and feeds a fan-out of its own (filters, batching and
 * slow-consumer policies as real-time). It runs only while someone subscribes.
 */
import { frameLength, frameTsRecvApprox } from "../frame/codec.js";
import type { FrameBatch } from "../storage/index.js";
import { type FeedClock, systemClock } from "./feed-clock.js";
import { HistoryReader, type HistorySources, seqAtTime } from "./history.js";
import { type ByteBudget, LastValueCache } from "./last-value-cache.js";
import {
  type FeedCounters,
  RealtimeFeed,
  type RealtimeSubscription,
  type SendLimit,
} from "./realtime-feed.js";

/** How often the feed looks for newly written frames once it has released everything it read, ms. */
const POLL_MS = 2;
const STAGING_BYTES = 64 * 1024;

export class DelayedFeed {
  private readonly feed: RealtimeFeed;
  private reader: HistoryReader | null = null;
  private starting: Promise<void> | null = null;
  private batch: FrameBatch | null = null;
  private index = 0;
  private timer: unknown;
  private staging = new Uint8Array(STAGING_BYTES);

  constructor(
    private readonly history: HistorySources,
    readonly delayMs: number,
    limit: SendLimit,
    counters: FeedCounters,
    /** The newest seq written, bounding the search for where now − delay is. */
    private readonly newestSeq: () => number,
    private readonly clock: FeedClock = systemClock,
    /** Its own last values (the delayed stream's, not the real-time one's) and the worker's conflation budget. */
    budgets: { lastValues?: ByteBudget; conflation?: ByteBudget } = {},
  ) {
    this.feed = new RealtimeFeed(new LastValueCache(budgets.lastValues), limit, counters, budgets.conflation);
  }

  /** Adds a subscriber; the first one starts the reader at the frames received `delay` ago. */
  async add(sub: RealtimeSubscription): Promise<void> {
    this.starting ??= this.start();
    await this.starting;
    this.feed.add(sub, this.feed.lastValuesFor(sub));
  }

  remove(sub: RealtimeSubscription): void {
    this.feed.remove(sub);
    if (this.feed.size === 0 && this.reader !== null) this.stop();
  }

  drained(sub: RealtimeSubscription): void {
    this.feed.drained(sub);
  }

  get size(): number {
    return this.feed.size;
  }

  /** Idle subscriptions for heartbeats, as {@link RealtimeFeed.idle}. */
  idle(out: RealtimeSubscription[]): void {
    this.feed.idle(out);
  }

  stop(): void {
    this.clock.cancel(this.timer);
    this.reader?.close();
    this.reader = null;
    this.batch = null;
    this.starting = null;
  }

  private async start(): Promise<void> {
    const newest = this.newestSeq();
    const from = await seqAtTime(this.history, this.clock.nowNs() - this.delayMs * 1e6, 1, newest);
    // What history cannot give (a damaged segment) is a gap for the delayed subscribers, never a stall.
    this.reader = new HistoryReader(this.history, from, (gapFrom, gapTo, reason) =>
      this.feed.reportGap(gapFrom, gapTo, reason),
    );
    this.release();
  }

  /** Fans out every frame that is due, then sleeps until the next one is (or polls for more). */
  private release(): void {
    this.timer = undefined;
    if (this.reader === null) return;
    const cutoff = this.clock.nowNs() - this.delayMs * 1e6;
    let used = 0;
    for (;;) {
      if (this.batch === null || this.index >= this.batch.count) {
        // The batch's bytes are reused by the next read: send what was staged from them first.
        if (used > 0) this.feed.dispatch(this.staging, 0, used);
        this.batch = null;
        // Never past what the WAL has written: bytes beyond may belong to a group whose write is undone.
        this.reader.read(this.newestSeq()).then(
          (b) => {
            this.batch = b;
            this.index = 0;
            if (b === null) this.timer = this.clock.after(POLL_MS, () => this.release());
            else this.release();
          },
          () => {
            this.timer = this.clock.after(POLL_MS, () => this.release());
          },
        );
        return;
      }
      const b = this.batch;
      const off = b.offsets[this.index];
      const ts = frameTsRecvApprox(b.bytes, off);
      if (ts > cutoff) {
        if (used > 0) this.feed.dispatch(this.staging, 0, used);
        this.timer = this.clock.after(Math.max(1, Math.ceil((ts - cutoff) / 1e6)), () => this.release());
        return;
      }
      const len = frameLength(b.bytes, off);
      if (used + len > this.staging.length) {
        this.feed.dispatch(this.staging, 0, used);
        used = 0;
        if (len > this.staging.length) this.staging = new Uint8Array(len);
      }
      this.staging.set(b.bytes.subarray(off, off + len), used);
      used += len;
      this.index++;
    }
  }
}
