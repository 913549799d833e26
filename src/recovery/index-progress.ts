/**
 * Watches the background indexer catch up after a start: indexed seq, rate, lag and ETA for `/v1/stats`
 * and `/metrics`, and a log line every few seconds while it is far behind (then one when it caught up).
 * The rate is measured over the last sampling window, so it reflects the indexer now, not since start.
 */
import type { Logger } from "pino";

/** Readings of {@link IndexProgress}. */
export interface IndexingStats {
  indexedSeq: number;
  /** Seqs durable in the WAL but not yet in the store. */
  lag: number;
  /** Seqs indexed per second over the last window. */
  ratePerSec: number;
  /** Seconds until caught up at that rate; null when idle with a lag (no estimate). */
  etaSeconds: number | null;
}

/** Options of {@link IndexProgress}. */
export interface IndexProgressOptions {
  indexedSeq: () => number;
  /** Highest seq the indexer may reach (the WAL's durable seq). */
  targetSeq: () => number;
  log: Logger;
  /** Sampling interval for the rate. @default 1000 */
  sampleMs?: number;
  /** Log interval while far behind. @default 5000 */
  logEveryMs?: number;
  /** "Far behind": a lag above this many seqs. @default 100000 */
  farBehindSeqs?: number;
}

/** See the module doc. Start with {@link IndexProgress.start}; stop with {@link IndexProgress.stop}. */
export class IndexProgress {
  private timer: NodeJS.Timeout | undefined;
  private last = { at: 0, seq: 0 };
  private rate = 0;
  private lastLogAt = 0;
  private behind = false;

  constructor(private readonly o: IndexProgressOptions) {}

  start(): void {
    this.last = { at: performance.now(), seq: this.o.indexedSeq() };
    this.lastLogAt = this.last.at;
    this.timer = setInterval(() => this.sample(), this.o.sampleMs ?? 1000);
    this.timer.unref();
    const lag = this.o.targetSeq() - this.last.seq;
    if (lag > (this.o.farBehindSeqs ?? 100_000)) {
      this.behind = true;
      this.o.log.info({ indexedSeq: this.last.seq, lag }, "indexing the WAL in the background");
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  stats(): IndexingStats {
    const indexedSeq = this.o.indexedSeq();
    const lag = Math.max(0, this.o.targetSeq() - indexedSeq);
    const etaSeconds = lag === 0 ? 0 : this.rate > 0 ? Math.ceil(lag / this.rate) : null;
    return { indexedSeq, lag, ratePerSec: Math.round(this.rate), etaSeconds };
  }

  private sample(): void {
    const now = performance.now();
    const seq = this.o.indexedSeq();
    this.rate = ((seq - this.last.seq) * 1000) / (now - this.last.at);
    this.last = { at: now, seq };
    const s = this.stats();
    if (s.lag > (this.o.farBehindSeqs ?? 100_000)) {
      this.behind = true;
      if (now - this.lastLogAt >= (this.o.logEveryMs ?? 5000)) {
        this.lastLogAt = now;
        this.o.log.info(s, "indexing progress");
      }
    } else if (this.behind && s.lag === 0) {
      this.behind = false;
      this.o.log.info(s, "indexing caught up");
    }
  }
}
