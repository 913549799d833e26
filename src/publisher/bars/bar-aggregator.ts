/**
 * Live OHLCV bars: every sequenced frame passes through {@link BarAggregator.observe} (on the single writer's
 * thread, so bars are computed once, never per worker); trades are added to their symbol's bar of each
 * interval, bucketed by ts_event (src/frame/ohlcv.ts). {@link BarAggregator.collect} hands out the bars that
 * are due — their bucket ended at least `grace` ago on the writer's clock — and the corrections: a trade for a
 * bar already emitted makes the bar be emitted again, whole, with `revision` one higher.
 *
 * Memory is bounded. A bar is kept after its emission for corrections until its end is `window` behind the
 * clock (`window` = the interval or 1 minute, whichever is longer, plus the grace); a trade older than that,
 * or more than `window` ahead of the clock, is not put in a live bar (it is counted in
 * {@link BarStats.outOfWindow}; `GET /v1/bars`, computed from the stored trades, has it). At most
 * {@link MAX_BARS} bars are held; past that a new bar is refused and counted ({@link BarStats.refused}).
 *
 * Cost per trade (bench/bars): a symbol lookup (hash of the symbol bytes and a byte compare, as the feeds'
 * filters do), and per interval a bucket computed from ts_event as a double; the bar touched last by each
 * series is checked first, so a symbol trading inside one bucket costs no map lookup. No allocation except
 * when a symbol or a bar is new; bar objects are pooled.
 */
import {
  BAR_REVISION_SLOT,
  BAR_TRADES_SLOT,
  type BarTick,
  Body,
  frameBarIntervalNs,
  type FrameFields,
  frameFields,
  frameInstrumentId,
  readFrameFields,
  readU32,
  tableFieldPos,
} from "../../frame/codec.js";
import { bucketOf, bucketStartNs, OhlcvBar, readTrade, tradeFields } from "../../frame/ohlcv.js";
import { SymbolMap } from "../../frame/symbol-map.js";

/** Bars held at most (open ones and emitted ones kept for corrections), over all symbols and intervals. */
export const MAX_BARS = 1 << 20;
/** The shortest correction window: a bar of a shorter interval is still corrected this long after its end. */
const MIN_WINDOW_NS = 60e9;

/** What {@link BarAggregator} counts. */
export interface BarStats {
  /** Bars handed out by collect(), corrections included. */
  emitted: number;
  /** Corrections among them. */
  corrections: number;
  /** Trades left out of a live bar of an interval because they were outside its window (counted per interval). */
  outOfWindow: number;
  /** Trades left out of a live bar because it could not be held ({@link MAX_BARS}; counted per interval). */
  refused: number;
  /**
   * Bars (or corrections) never handed out: their window passed while this node could not sequence bars
   * ({@link BarAggregator.hold}) and no frame of them came from the node that could.
   */
  dropped: number;
}

/** One bar of one symbol and interval. */
class Slot extends OhlcvBar {
  bucket = 0;
  revision = 0;
  emitted = false;
  /** An emitted bar that changed since: waits in the corrections list. */
  dirty = false;
  /** Approximate ns at which the bucket ends. */
  endNs = 0;
  series!: Series;
}

/** One symbol's bars of one interval. */
interface Series {
  readonly intervalNs: number;
  readonly windowNs: number;
  readonly symbol: SymbolBars;
  /** Every bar held, by bucket. */
  readonly slots: Map<number, Slot>;
  /** The bar touched last: the fast path. */
  last: Slot | undefined;
}

/** A symbol's series, one per interval. */
interface SymbolBars {
  readonly symbol: string;
  readonly instrumentId: number;
  readonly series: Series[];
}

export class BarAggregator {
  readonly stats: BarStats = { emitted: 0, corrections: 0, outOfWindow: 0, refused: 0, dropped: 0 };
  private readonly symbols = new SymbolMap((symbol, frame, off) => this.newSymbol(symbol, frame, off));
  /** Bars not emitted yet, and emitted bars that changed. */
  private open: Slot[] = [];
  private readonly corrections: Slot[] = [];
  /** Emitted bars kept for corrections, per interval, in emission order (oldest first). */
  private readonly kept: Slot[][];
  private readonly pool: Slot[] = [];
  private held = 0;
  private readonly fields = frameFields();
  /** Each interval ÷ the first (the shortest, as options sort them), or 0 when not a whole multiple. */
  private readonly multiples: number[];
  private readonly trade = tradeFields();
  /** The writer's clock at the last collect(): the window is judged by it. */
  private clockNs: number;

  /**
   * @param intervalsNs the bar intervals, ns (whole seconds), shortest first.
   * @param graceNs how long after its bucket's end a bar waits for trades still on their way.
   */
  constructor(
    readonly intervalsNs: readonly number[],
    readonly graceNs: number,
    nowNs: number,
  ) {
    this.kept = intervalsNs.map(() => []);
    this.multiples = intervalsNs.map((ns) => (ns % intervalsNs[0] === 0 ? ns / intervalsNs[0] : 0));
    this.clockNs = nowNs;
  }

  /** The longest correction window of its intervals (ns): the history a restarted aggregator reads back. */
  get windowNs(): number {
    return Math.max(...this.intervalsNs.map((ns) => Math.max(ns, MIN_WINDOW_NS))) + this.graceNs;
  }

  /** Bars held now (open and kept for corrections). */
  get size(): number {
    return this.held;
  }

  /**
   * Looks at one sequenced frame: a trade goes into its bars; a bar this aggregator emitted (one it would
   * make: a trade count, one of its intervals), seen again when history is read back after a restart, marks
   * its bar emitted at that revision, so that it is not emitted twice. Allocation-free for a known symbol
   * and bar.
   */
  observe(bytes: Uint8Array, off: number): void {
    const f = this.fields;
    readFrameFields(bytes, off, f);
    if (f.bodyType === Body.Trade) this.addTrade(bytes, off, f);
    else if (f.bodyType === Body.Bar) this.sawBar(bytes, f);
  }

  private addTrade(bytes: Uint8Array, off: number, f: FrameFields): void {
    const sym = this.symbols.ofSpan(bytes, f.symbolAt, f.symbolLength, f.symbolKey, off);
    const t = this.trade;
    readTrade(bytes, f, t);
    const first = bucketOf(t, this.intervalsNs[0]);
    for (let i = 0; i < sym.series.length; i++) {
      const s = sym.series[i];
      // A multiple of the shortest interval buckets exactly by dividing its bucket: floor(floor(x/a)/m) = floor(x/am).
      const m = this.multiples[i];
      const bucket = m === 1 ? first : m > 1 ? Math.floor(first / m) : bucketOf(t, s.intervalNs);
      let slot = s.last;
      if (slot === undefined || slot.bucket !== bucket) {
        slot = s.slots.get(bucket);
        if (slot === undefined) {
          const endNs = (bucket + 1) * s.intervalNs;
          if (endNs < this.clockNs - s.windowNs || endNs - s.intervalNs > this.clockNs + s.windowNs) {
            this.stats.outOfWindow++;
            continue;
          }
          slot = this.newSlot(s, bucket, endNs);
          if (slot === undefined) continue;
        }
        s.last = slot;
      }
      slot.add(t);
      if (slot.emitted && !slot.dirty) {
        slot.dirty = true;
        this.corrections.push(slot);
      }
    }
  }

  /**
   * A bar frame this aggregator (or its predecessor, before a restart) emitted. Its trade count says whether
   * the bar still holds what was emitted (trades are only ever added): the same count, no correction is owed;
   * more, one is. A frame of an older revision than the bar's is stale and changes nothing.
   */
  private sawBar(bytes: Uint8Array, f: FrameFields): void {
    const tradesPos = tableFieldPos(bytes, f.body, BAR_TRADES_SLOT);
    const trades = tradesPos === 0 ? 0 : readU32(bytes, tradesPos);
    if (trades === 0) return; // a publisher's bar, not ours
    const i = f.body === 0 ? -1 : this.intervalsNs.indexOf(frameBarIntervalNs(bytes, f.body, true));
    const sym = i < 0 ? undefined : this.symbols.findSpan(bytes, f.symbolAt, f.symbolLength, f.symbolKey);
    if (sym === undefined) return;
    const s = sym.series[i];
    // ts_event is the bucket's end, a whole multiple of the interval: rounding the double is exact.
    const slot = s.slots.get(Math.round((f.tsEventHi * 0x1_0000_0000 + f.tsEventLo) / s.intervalNs) - 1);
    if (slot === undefined) return;
    const revisionPos = tableFieldPos(bytes, f.body, BAR_REVISION_SLOT);
    const revision = revisionPos === 0 ? 0 : readU32(bytes, revisionPos);
    if (slot.emitted && revision < slot.revision) return;
    slot.revision = revision;
    if (!slot.emitted) {
      slot.emitted = true;
      this.kept[i].push(slot);
    }
    if (slot.trades === trades) slot.dirty = false;
    else if (!slot.dirty) {
      slot.dirty = true;
      this.corrections.push(slot);
    }
  }

  /** When the next bar is due (approximate ns), or Infinity when none is waiting. */
  nextDueNs(): number {
    if (this.corrections.some((slot) => slot.dirty)) return this.clockNs;
    let due = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.open.length; i++) {
      if (!this.open[i].emitted) due = Math.min(due, this.open[i].endNs + this.graceNs);
    }
    return due;
  }

  /**
   * The bars due at `nowNs` (bucket ended at least `grace` ago) and every correction, as ticks ready to
   * sequence, ordered by bucket end, then interval, then symbol. Forgets bars past their window.
   */
  collect(nowNs: number): BarTick[] {
    this.clockNs = nowNs;
    const out: Slot[] = [];
    const still: Slot[] = [];
    // An open bar may have been marked emitted by its own frame, read back after a restart: it is done.
    for (const slot of this.open)
      if (!slot.emitted) (slot.endNs + this.graceNs <= nowNs ? out : still).push(slot);
    this.open = still;
    for (const slot of this.corrections) {
      if (!slot.dirty) continue;
      slot.dirty = false;
      slot.revision++;
      out.push(slot);
      this.stats.corrections++;
    }
    this.corrections.length = 0;
    out.sort(byEndIntervalSymbol);
    const ticks = out.map(toTick);
    for (const slot of out) {
      if (slot.emitted) continue;
      slot.emitted = true;
      this.kept[this.intervalsNs.indexOf(slot.series.intervalNs)].push(slot);
    }
    this.stats.emitted += ticks.length;
    this.forgetOld(nowNs);
    return ticks;
  }

  /**
   * Instead of {@link collect} while this node may not sequence bars — a follower, whose leader's bar frames
   * come through the ring and mark its bars emitted ({@link observe}), or a writer refusing ingest: the clock
   * moves on and nothing is handed out. Bars and corrections still within their window wait, so the first
   * collect() after hands out what nobody emitted meanwhile (a new leader emits what its old leader did not
   * live to); past their window they are dropped ({@link BarStats.dropped}): memory stays bounded however
   * long the hold.
   */
  hold(nowNs: number): void {
    this.clockNs = nowNs;
    const still: Slot[] = [];
    for (const slot of this.open) {
      if (slot.emitted) continue;
      if (slot.endNs >= nowNs - slot.series.windowNs) still.push(slot);
      else {
        this.stats.dropped++;
        this.free(slot);
      }
    }
    this.open = still;
    let n = 0;
    for (const slot of this.corrections) {
      if (!slot.dirty) continue;
      if (slot.endNs >= nowNs - slot.series.windowNs) this.corrections[n++] = slot;
      else {
        slot.dirty = false;
        this.stats.dropped++;
      }
    }
    this.corrections.length = n;
    this.forgetOld(nowNs);
  }

  /** Drops emitted bars whose end is past their window (a late trade for them is out of window now). */
  private forgetOld(nowNs: number): void {
    for (const kept of this.kept) {
      let n = 0;
      while (n < kept.length && !kept[n].dirty && kept[n].endNs < nowNs - kept[n].series.windowNs) {
        this.free(kept[n++]);
      }
      if (n > 0) kept.splice(0, n);
    }
  }

  /** Forgets `slot`: its series no longer holds it, and it goes back to the pool. */
  private free(slot: Slot): void {
    const s = slot.series;
    s.slots.delete(slot.bucket);
    if (s.last === slot) s.last = undefined;
    this.pool.push(slot);
    this.held--;
  }

  private newSlot(s: Series, bucket: number, endNs: number): Slot | undefined {
    if (this.held >= MAX_BARS) {
      this.stats.refused++;
      return undefined;
    }
    const slot = this.pool.pop() ?? new Slot();
    slot.reset();
    slot.bucket = bucket;
    slot.revision = 0;
    slot.emitted = false;
    slot.dirty = false;
    slot.endNs = endNs;
    slot.series = s;
    s.slots.set(bucket, slot);
    this.open.push(slot);
    this.held++;
    return slot;
  }

  /** A symbol's series, one per interval, made on its first trade. */
  private newSymbol(symbol: string, frame: Uint8Array, off: number): SymbolBars {
    const sym: SymbolBars = { symbol, instrumentId: frameInstrumentId(frame, off), series: [] };
    for (const intervalNs of this.intervalsNs) {
      const windowNs = Math.max(intervalNs, MIN_WINDOW_NS) + this.graceNs;
      sym.series.push({ intervalNs, windowNs, symbol: sym, slots: new Map(), last: undefined });
    }
    return sym;
  }
}

function byEndIntervalSymbol(a: Slot, b: Slot): number {
  const ia = a.series.intervalNs;
  const ib = b.series.intervalNs;
  const ea = a.bucket * ia;
  const eb = b.bucket * ib;
  if (ea + ia !== eb + ib) return ea + ia - (eb + ib);
  if (ia !== ib) return ia - ib;
  const sa = a.series.symbol.symbol;
  const sb = b.series.symbol.symbol;
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function toTick(slot: Slot): BarTick {
  const { intervalNs, symbol } = slot.series;
  return {
    type: "bar",
    symbol: symbol.symbol,
    instrumentId: symbol.instrumentId,
    tsEvent: bucketStartNs(slot.bucket + 1, intervalNs),
    intervalNs: BigInt(intervalNs),
    open: slot.open,
    high: slot.high,
    low: slot.low,
    close: slot.close,
    volume: slot.volume,
    trades: slot.trades,
    vwap: slot.vwap,
    revision: slot.revision,
  };
}
