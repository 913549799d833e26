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
  /** One-way latency histogram in nanoseconds, `encodeIntoCompressedBase64`. */
  histogram: string;
}

/**
 * Monotonic milliseconds shared by all threads of the process: each thread's `performance.now()` counts
 * from its own start, so it is shifted onto `process.hrtime` (one monotonic clock) once per thread.
 */
const shiftMs = Number(process.hrtime.bigint()) / 1e6 - performance.now();

/** Nanoseconds since `epochMs` on the process-wide monotonic clock; no allocation. */
export function clockNs(epochMs: number): number {
  return (performance.now() + shiftMs - epochMs) * 1e6;
}

/** The shared zero for {@link clockNs}, taken by the producer. */
export function newEpochMs(): number {
  return performance.now() + shiftMs;
}

/** A latency histogram in ns, 1 ns to 1 min, 3 significant digits. */
export function newHistogram(): Histogram {
  return build({ highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3, bitBucketSize: 32 });
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
