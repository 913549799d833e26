/**
 * OHLCV bars from trade frames, the one definition shared by the daemon's live bars (`--bars`, on the main
 * thread) and the bars computed from stored trades (`GET /v1/bars`, in the socket workers), so both agree
 * to the bit:
 *
 * - a trade belongs to the bucket `floor(ts_event / interval)`: [start, start + interval) in ts_event;
 * - open and close are the prices of the first and last trade of the bucket ordered by (ts_event, seq),
 *   so a late trade that belongs before the open corrects the open;
 * - high and low the extreme prices; volume the sum of sizes and vwap Σ price × size ÷ volume (the close
 *   when the volume is 0), both summed in seq order; trades the count.
 *
 * Reading a trade allocates nothing: ts_event is compared exactly in its two 32-bit halves, and bucketed
 * as a double except within a few µs of a bucket boundary, where the exact int64 decides.
 */
import { type FrameFields, readF64, tableFieldPos, TRADE_PRICE_SLOT, TRADE_SIZE_SLOT } from "./codec.js";

/**
 * ts_event read as a double is within 128 ns of the truth below 2^61 ns (year 2043) and the bucket start
 * as a double within 256: a remainder this far from either boundary puts the trade in the right bucket.
 */
const BOUNDARY_SLACK_NS = 4096;
const TWO_32 = 0x1_0000_0000;

/** One trade read in place. Reused: {@link readTrade} overwrites it. */
export interface TradeFields {
  price: number;
  size: number;
  seq: number;
  /** ts_event: high half (signed) and low half (unsigned), exact; and as a double, approximate. */
  tsHi: number;
  tsLo: number;
  tsApprox: number;
}

/** A {@link TradeFields} to reuse. */
export function tradeFields(): TradeFields {
  return { price: 0, size: 0, seq: 0, tsHi: 0, tsLo: 0, tsApprox: 0 };
}

/** Reads the trade whose frame fields are `f` (its body a Trade, as the caller checked) into `out`. */
export function readTrade(bytes: Uint8Array, f: FrameFields, out: TradeFields): void {
  const pricePos = tableFieldPos(bytes, f.body, TRADE_PRICE_SLOT);
  const sizePos = tableFieldPos(bytes, f.body, TRADE_SIZE_SLOT);
  out.price = pricePos === 0 ? 0 : readF64(bytes, pricePos);
  out.size = sizePos === 0 ? 0 : readF64(bytes, sizePos);
  out.seq = f.seq;
  out.tsLo = f.tsEventLo;
  out.tsHi = f.tsEventHi;
  out.tsApprox = f.tsEventHi * TWO_32 + f.tsEventLo;
}

/** The bucket (`floor(ts_event / intervalNs)`) of the trade in `t`; exact. */
export function bucketOf(t: TradeFields, intervalNs: number): number {
  const b = Math.floor(t.tsApprox / intervalNs);
  const rem = t.tsApprox - b * intervalNs;
  if (rem >= BOUNDARY_SLACK_NS && rem <= intervalNs - BOUNDARY_SLACK_NS) return b;
  // Near a boundary (rare: a few µs per interval): decide with the exact value.
  const exact = (BigInt(t.tsHi) << 32n) | BigInt(t.tsLo);
  return Number(exact / BigInt(intervalNs));
}

/** The start of bucket `bucket`, in ns since the epoch: exact. */
export function bucketStartNs(bucket: number, intervalNs: number): bigint {
  return BigInt(bucket) * BigInt(intervalNs);
}

/** One bar being built. Reusable: {@link OhlcvBar.reset} readies it for another bucket. */
export class OhlcvBar {
  open = 0;
  high = 0;
  low = 0;
  close = 0;
  volume = 0;
  trades = 0;
  /** Σ price × size. */
  notional = 0;
  /** The (ts_event halves, seq) of the trades that set the open and the close. */
  private openHi = 0;
  private openLo = 0;
  private openSeq = 0;
  private closeHi = 0;
  private closeLo = 0;
  private closeSeq = 0;

  reset(): void {
    this.trades = 0;
    this.volume = 0;
    this.notional = 0;
  }

  /** Adds a trade (in seq order, so that sums are the same whoever adds them). */
  add(t: TradeFields): void {
    const { price, size, tsHi, tsLo, seq } = t;
    if (this.trades === 0) {
      this.open = this.high = this.low = this.close = price;
      this.openHi = this.closeHi = tsHi;
      this.openLo = this.closeLo = tsLo;
      this.openSeq = this.closeSeq = seq;
    } else {
      if (price > this.high) this.high = price;
      if (price < this.low) this.low = price;
      if (before(tsHi, tsLo, seq, this.openHi, this.openLo, this.openSeq)) {
        this.open = price;
        this.openHi = tsHi;
        this.openLo = tsLo;
        this.openSeq = seq;
      }
      if (!before(tsHi, tsLo, seq, this.closeHi, this.closeLo, this.closeSeq)) {
        this.close = price;
        this.closeHi = tsHi;
        this.closeLo = tsLo;
        this.closeSeq = seq;
      }
    }
    this.trades++;
    this.volume += size;
    this.notional += price * size;
  }

  /** Volume-weighted average price: Σ price × size ÷ volume, or the close when the volume is 0. */
  get vwap(): number {
    return this.volume === 0 ? this.close : this.notional / this.volume;
  }
}

/** Whether (ts_event, seq) `a` orders before `b`. */
function before(aHi: number, aLo: number, aSeq: number, bHi: number, bLo: number, bSeq: number): boolean {
  return aHi !== bHi ? aHi < bHi : aLo !== bLo ? aLo < bLo : aSeq < bSeq;
}
