/** What the ring benchmark's producer and its consumer workers share: the clock, frames and control words. */
import { build, type Histogram } from "hdr-histogram-js";
import { FrameEncoder, type Tick } from "../../src/frame/codec.js";

/** Control words (Int32) of a scenario, in a SharedArrayBuffer shared with its consumers. */
export const CONTROL_READY = 0; // consumers ready to receive
export const CONTROL_STOP = 1; // 1: the producer is done; drain up to CONTROL_SENT frames, then report
export const CONTROL_SENT = 2; // frames the producer sent
export const CONTROL_PROGRESS = 8; // + consumer index: its ring position, or frames received by postMessage
export const CONTROL_WORDS = 16;

/** The scenario a consumer worker runs. */
export interface ConsumerData {
  transport: "ring" | "postMessage";
  ring: SharedArrayBuffer | null;
  control: SharedArrayBuffer;
  index: number;
  /** Shared zero of the clock: every thread stamps and reads times relative to it. */
  epochMs: number;
  /** Polls a ring this long after it ran dry before sleeping (0: sleep at once). */
  spinMicros: number;
}

/** What a consumer reports when the scenario ends. */
export interface ConsumerResult {
  received: number;
  laps: number;
  tornRuns: number;
  runs: number;
  /** One-way latencies: {@link LatencyRecorder} bucket counts. */
  latencyCounts: Float64Array;
}

/**
 * Monotonic milliseconds shared by all threads of the process: each thread's `performance.now()` counts
 * from its own start, so it is shifted onto `process.hrtime` (one monotonic clock) once per thread.
 */
const shiftMs = calibrateShiftMs();

/**
 * The offset from this thread's `performance.now()` to `process.hrtime`, from the tightest of many
 * bracketed samples: a single sample taken while the thread starts up on a busy machine was seen off by
 * hundreds of µs, which showed up as impossible 0 µs latencies.
 */
function calibrateShiftMs(): number {
  let bestWidth = Number.POSITIVE_INFINITY;
  let shift = 0;
  for (let i = 0; i < 2000; i++) {
    const before = performance.now();
    const hrMs = Number(process.hrtime.bigint()) / 1e6;
    const after = performance.now();
    if (after - before < bestWidth) {
      bestWidth = after - before;
      shift = hrMs - (before + after) / 2;
    }
  }
  return shift;
}

/** Nanoseconds since `epochMs` on the process-wide monotonic clock; no allocation. */
export function clockNs(epochMs: number): number {
  return (performance.now() + shiftMs - epochMs) * 1e6;
}

/** The shared zero for {@link clockNs}, taken by the producer. */
export function newEpochMs(): number {
  return performance.now() + shiftMs;
}

const SUB_BUCKET_BITS = 7;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
const EXACT_BELOW = 2 * SUB_BUCKETS;
/** Latencies are clamped here (2.1 s): far beyond anything but a broken run, and it keeps clz32 usable. */
const MAX_RECORDED_NS = 0x7fff_ffff;
const BUCKETS = EXACT_BELOW + (31 - SUB_BUCKET_BITS - 1) * SUB_BUCKETS;

/**
 * Per-frame latency recording at a few ns: log-linear buckets (exact below 256 ns, then 128 per power of
 * two, so ≤ 0.8% error), turned into an hdr histogram once at the end. hdr-histogram-js's own
 * `recordValue` costs ≈ 120 ns (JS) or 40–60 ns (WASM) on this machine, which capped the ring consumer
 * at a fraction of what the ring delivers; both transports record through this, so the baseline is fair.
 */
export class LatencyRecorder {
  readonly counts = new Float64Array(BUCKETS);

  record(ns: number): void {
    const v = ns <= 0 ? 0 : ns >= MAX_RECORDED_NS ? MAX_RECORDED_NS : ns | 0;
    if (v < EXACT_BELOW) {
      this.counts[v]++;
      return;
    }
    const shift = 31 - Math.clz32(v) - SUB_BUCKET_BITS;
    this.counts[EXACT_BELOW + (shift - 1) * SUB_BUCKETS + (v >>> shift) - SUB_BUCKETS]++;
  }
}

/** An hdr histogram (ns) of the sum of recorders' `counts`, each bucket at its midpoint. */
export function toHistogram(countsList: Float64Array[]): Histogram {
  const histogram = build({ highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3 });
  for (let i = 0; i < BUCKETS; i++) {
    let count = 0;
    for (const counts of countsList) count += counts[i];
    if (count > 0) histogram.recordValueWithCount(bucketMidpoint(i), count);
  }
  return histogram;
}

function bucketMidpoint(index: number): number {
  if (index < EXACT_BELOW) return index;
  const shift = Math.floor((index - EXACT_BELOW) / SUB_BUCKETS) + 1;
  const top = ((index - EXACT_BELOW) % SUB_BUCKETS) + SUB_BUCKETS;
  return top * 2 ** shift + 2 ** (shift - 1);
}

/**
 * One frame re-stamped in place for each send: the bytes are the codec's, seq and ts_recv rewritten, so the
 * producer's cost is the transport's, not the encoder's BigInt-heavy path.
 */
export class StampedFrame {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly seqAt: number;
  private readonly tsRecvAt: number;

  constructor(tick: Tick) {
    const seqMark = 0x0102_0304_0506_0708n;
    const tsMark = 0x1112_1314_1516_1718n;
    this.bytes = new FrameEncoder().encode(tick, seqMark, tsMark).slice();
    this.view = new DataView(this.bytes.buffer);
    this.seqAt = find(this.view, seqMark);
    this.tsRecvAt = find(this.view, tsMark);
  }

  /** Writes `seq` and `tsRecvNs` (a non-negative number of ns) into the frame. */
  stamp(seq: number, tsRecvNs: number): void {
    setU64(this.view, this.seqAt, seq);
    setU64(this.view, this.tsRecvAt, Math.round(tsRecvNs));
  }
}

function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value >>> 0, true);
  view.setUint32(at + 4, Math.floor(value / 0x1_0000_0000), true);
}

function find(view: DataView, mark: bigint): number {
  for (let at = 0; at + 8 <= view.byteLength; at += 4) if (view.getBigUint64(at, true) === mark) return at;
  throw new Error(`mark ${mark} not found in the template frame`);
}

/** The frames the benchmark sends: the smallest market-data frame (a trade) and a 256-byte book update. */
export const FRAME_TICKS: Record<string, Tick> = {
  trade: { type: "trade", symbol: "A", price: 1.5, size: 100, tsEvent: 1n },
  book: {
    type: "book",
    symbol: "AAPL",
    snapshot: false,
    tsEvent: 1n,
    bids: Array.from({ length: 5 }, (_, i) => ({ price: 100 - i, size: 10 })),
    asks: [],
  },
};
