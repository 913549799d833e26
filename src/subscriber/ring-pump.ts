/**
 * Moves frames from the shared-memory ring to a worker's fan-out, in seq order, with no gap and no
 * duplicate. Invariant: every dispatch starts at `dispatchedSeq + 1`.
 *
 * - A lap (the writer overtook this reader), or a run too close to being overwritten to send safely, is made
 *   good from the WAL, which holds every frame before the ring gets it; ring frames the WAL already gave are
 *   skipped. Seqs retention already took from the WAL are reported to subscribers as a gap.
 * - After a run is dispatched the reader re-checks it: if the writer began overwriting it while it was being
 *   sent, the clients that got it may hold a torn frame, and `onTorn` is told.
 *
 * The pump yields to the event loop every {@link RUNS_PER_TURN} runs so the worker's sockets are served while
 * the ring is busy, and sleeps on the ring (`awaitData`) when it is idle.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { frameLength, frameSeq } from "../frame/codec.js";
import { POLL_EMPTY, POLL_LAPPED, type RingReader } from "../ring/reader.js";
import { listSegments, openWalReader, type WalGapReason, WalSeqRetiredError } from "../storage/index.js";

/** Runs handled before yielding to the event loop. */
const RUNS_PER_TURN = 64;
/** Largest run sent as one message (and the WAL catch-up's staging buffer). */
export const MAX_RUN_BYTES = 64 * 1024;
/** WAL read buffer of a catch-up. */
const CATCH_UP_BUFFER_BYTES = 1 << 20;

/** Why seqs will never come: retention took them, or they could not be read (see the WAL reader). */
export type GapReason = "retired" | WalGapReason;

/** Where the pump's frames go: the worker's real-time fan-out. */
export interface FanOut {
  /** Fans out the whole frames of `bytes[start…end)`. */
  dispatch(bytes: Uint8Array, start: number, end: number): void;
  /** Tells every subscriber that seqs [from, to] will never come, and why. */
  reportGap(from: number, to: number, reason: GapReason): void;
}

/** What the pump counts, for stats. */
export interface RingPumpCounters {
  /** Times the ring overtook this reader (or nearly did). */
  laps: number;
  /** Frames re-read from the WAL to make good a lap. */
  caughtUp: number;
}

/** Options of a {@link RingPump}. */
export interface RingPumpOptions {
  reader: RingReader;
  /** The WAL directory, for catch-ups. */
  walDir: string;
  fanOut: FanOut;
  /** The newest seq already fanned out (or, before any, the newest written when the worker started). */
  startSeq: number;
  /**
   * The newest seq the WAL has written: a catch-up never reads past it (bytes beyond may belong to a group
   * whose write failed and was undone).
   */
  writtenSeq(): number;
  /** The writer overtook bytes being sent: the subscribers that got them may hold a torn frame. */
  onTorn(): void;
}

/** The ring → fan-out loop of one worker; see the module doc. */
export class RingPump {
  /** The newest seq fanned out: a live replay joins the real-time feed right after it. */
  dispatchedSeq: number;
  readonly counters: RingPumpCounters = { laps: 0, caughtUp: 0 };
  private running = false;
  private staging = new Uint8Array(MAX_RUN_BYTES);
  private readonly reader: RingReader;
  private readonly fanOut: FanOut;

  constructor(private readonly options: RingPumpOptions) {
    this.reader = options.reader;
    this.fanOut = options.fanOut;
    this.dispatchedSeq = options.startSeq;
  }

  /** Pumps until {@link stop}; rejects if the ring or the WAL fails (the caller decides what that costs). */
  async run(): Promise<void> {
    this.running = true;
    const reader = this.reader;
    while (this.running) {
      const turn = this.turn();
      if (turn === RUNS_PER_TURN) await yieldToLoop();
      else if (this.running) await reader.awaitData();
    }
  }

  /** Ends {@link run} after its current turn. */
  stop(): void {
    this.running = false;
  }

  /** Handles up to {@link RUNS_PER_TURN} runs now; returns how many it handled. */
  turn(): number {
    const reader = this.reader;
    const safeHeadroom = reader.capacity / 4;
    const runBytes = Math.min(MAX_RUN_BYTES, reader.capacity / 4);
    const bytes = reader.bytes;
    let runs = 0;
    for (; runs < RUNS_PER_TURN; runs++) {
      const polled = reader.poll(runBytes);
      if (polled === POLL_EMPTY) break;
      if (polled === POLL_LAPPED) {
        this.counters.laps++;
        this.catchUpFromWal(Number.MAX_SAFE_INTEGER);
        continue;
      }
      let start = reader.runStart;
      const end = reader.runEnd;
      while (start < end && frameSeq(bytes, start) <= this.dispatchedSeq) start += frameLength(bytes, start);
      if (start === end) continue;
      const first = frameSeq(bytes, start);
      if (first > this.dispatchedSeq + 1) this.catchUpFromWal(first - 1);
      // A run about to be overwritten is not sent from the ring: a torn frame cannot be recalled.
      if (reader.headroom() < safeHeadroom) {
        this.counters.laps++;
        this.catchUpFromWal(Number.MAX_SAFE_INTEGER);
        continue;
      }
      this.fanOut.dispatch(bytes, start, end);
      this.dispatchedSeq = reader.lastSeq;
      if (!reader.runIntact()) this.options.onTorn();
    }
    return runs;
  }

  /**
   * Fans out seqs from `dispatchedSeq + 1` to `to` (or to the end of the WAL) read from the WAL. Frames are
   * copied into a staging buffer (once per worker, not per subscriber) so they go out in runs like ring
   * frames.
   */
  private catchUpFromWal(upTo: number): void {
    const to = Math.min(upTo, this.options.writtenSeq());
    const from = this.dispatchedSeq + 1;
    if (from > to) return;
    let used = 0;
    const flush = () => {
      if (used > 0) this.fanOut.dispatch(this.staging, 0, used);
      used = 0;
    };
    let wal: ReturnType<typeof openWalReader> | undefined;
    try {
      wal = openWalReader(this.options.walDir, from, {
        bufferBytes: CATCH_UP_BUFFER_BYTES,
        // A record that cannot be read (a damaged older segment) is a gap for every subscriber, not a crash.
        onGap: (gapFrom, gapTo, reason) => {
          flush();
          this.fanOut.reportGap(gapFrom, gapTo, reason);
          this.dispatchedSeq = gapTo;
        },
      });
      for (let b = wal.nextSync(to); b !== null; b = wal.nextSync(to)) {
        for (let i = 0; i < b.count; i++) {
          const off = b.offsets[i];
          const len = frameLength(b.bytes, off);
          if (used + len > this.staging.length) {
            flush();
            if (len > this.staging.length) this.staging = new Uint8Array(len);
          }
          this.staging.set(b.bytes.subarray(off, off + len), used);
          used += len;
        }
        flush();
        this.dispatchedSeq = b.lastSeq;
      }
    } catch (err) {
      if (!(err instanceof WalSeqRetiredError)) throw err;
      const firstWal = listSegments(this.options.walDir)[0]?.firstSeq ?? from;
      const lost = Math.min(to, firstWal - 1);
      this.fanOut.reportGap(from, lost, "retired");
      this.dispatchedSeq = lost;
    } finally {
      wal?.close();
    }
    this.counters.caughtUp += this.dispatchedSeq - from + 1;
  }
}
