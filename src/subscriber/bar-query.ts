/**
 * Bars of any whole-second interval computed from stored trades (`GET /v1/bars`), with the live bars'
 * definition (src/frame/ohlcv.ts) and in bounded memory whatever the range.
 *
 * Trades come in seq order, which is not quite ts_event order. Each symbol keeps its open bars until its
 * newest ts_event is {@link windowNs} past their end — as late as the live bars accept corrections — and then
 * hands them out, final, in bucket order: memory is the open bars of a window per symbol. A trade that
 * arrives for a bar already handed out (later than the window) is not lost: its symbol and bucket are noted
 * ({@link MAX_LATE_BARS} at most), and a second pass over the same range recomputes those bars whole, handed
 * out at the end with revision 1 — a row that replaces the earlier row of the same symbol and bucket, as a
 * live correction does.
 *
 * What a query holds is bounded by {@link MAX_HELD}: symbols and open bars together (the open bars of a
 * window per symbol: 60 for 1-second bars). A range that needs more is refused half-way with LIMIT_REACHED
 * naming what to ask instead.
 */
import { TickringError } from "../errors.js";
import { frameFields, readFrameFields } from "../frame/codec.js";
import { bucketOf, OhlcvBar, readTrade, type TradeFields, tradeFields } from "../frame/ohlcv.js";
import { SymbolMap } from "../frame/symbol-map.js";
import { symbolText } from "./frame-text.js";

/** Bars recomputed by the second pass, at most; a range with more late trades than that is refused. */
export const MAX_LATE_BARS = 65_536;
/** Symbols and open bars a query holds at once, at most (a bar is about a hundred bytes: some 25 MB). */
export const MAX_HELD = 262_144;
/** The shortest window: a bar of a shorter interval still waits this long (in its symbol's ts_event) for late trades. */
const MIN_WINDOW_NS = 60e9;

/** A bar with its bucket. */
class BucketBar extends OhlcvBar {
  bucket = 0;
}

/** One symbol's state. */
interface SymbolBars {
  readonly json: string;
  readonly csv: string;
  /** Open bars, by bucket. */
  readonly open: BucketBar[];
  /** Every bucket below this one was handed out (or is empty and closed). */
  sealedBelow: number;
  /** The newest ts_event seen (approximate ns). */
  newest: number;
  /** Buckets of late trades, for the second pass. */
  late: Set<number> | undefined;
}

/** Where the bars go: the symbol's texts, the bar's end (its ts_event) and the bar, valid during the call. */
export type BarSink = (
  symbol: { json: string; csv: string },
  endNs: bigint,
  bar: OhlcvBar,
  revision: number,
) => void;

/** Paces the bars handed out at the end of a pass, as {@link RecordSink.pace} does. */
export type BarPace = () => boolean | Promise<boolean>;

export class BarQuery {
  /** How long (ts_event, ns) a bar waits for late trades. */
  readonly windowNs: number;
  private readonly symbols = new SymbolMap<SymbolBars>((symbol) => {
    this.hold();
    return {
      ...symbolText(symbol),
      open: [],
      sealedBelow: Number.NEGATIVE_INFINITY,
      newest: Number.NEGATIVE_INFINITY,
      late: undefined,
    };
  });
  /** Symbols and open bars held (see {@link MAX_HELD}). */
  private held = 0;
  private readonly fields = frameFields();
  private readonly trade = tradeFields();
  private readonly pool: BucketBar[] = [];
  private lateBars = 0;
  /** Second pass: the late bars being recomputed, by symbol then bucket. */
  private redo: Map<SymbolBars, Map<number, BucketBar>> | undefined;

  constructor(
    readonly intervalNs: number,
    private readonly sink: BarSink,
  ) {
    this.windowNs = Math.max(intervalNs, MIN_WINDOW_NS);
  }

  /** True when the first pass met late trades: run {@link addAgain} over the same range, then {@link finishAgain}. */
  get needsSecondPass(): boolean {
    return this.lateBars > 0;
  }

  /**
   * First pass: one trade frame (in seq order). The bars it completes go to the sink at once: a few at most
   * (those of one symbol's window), so the caller paces per trade, not per bar.
   */
  add(bytes: Uint8Array, off: number): void {
    const { s, t } = this.read(bytes, off);
    const bucket = bucketOf(t, this.intervalNs);
    if (bucket < s.sealedBelow) {
      this.noteLate(s, bucket);
      return undefined;
    }
    const open = s.open;
    let i = open.length - 1;
    while (i >= 0 && open[i].bucket > bucket) i--;
    let bar = i >= 0 ? open[i] : undefined;
    if (bar === undefined || bar.bucket !== bucket) {
      this.hold();
      bar = this.pool.pop() ?? new BucketBar();
      bar.reset();
      bar.bucket = bucket;
      open.splice(i + 1, 0, bar);
    }
    bar.add(t);
    if (t.tsApprox > s.newest) s.newest = t.tsApprox;
    // Hand out the bars whose window passed, oldest first.
    while (open.length > 0 && (open[0].bucket + 1) * this.intervalNs + this.windowNs <= s.newest) {
      const done = open.shift()!;
      this.emit(s, done, 0);
      s.sealedBelow = done.bucket + 1;
      this.pool.push(done);
      this.held--;
    }
  }

  /** End of the first pass: every bar still open, ordered by end, then symbol. */
  async finish(pace: BarPace): Promise<void> {
    const rest: [SymbolBars, BucketBar][] = [];
    for (const s of this.symbols.values()) for (const bar of s.open.splice(0)) rest.push([s, bar]);
    await this.emitAll(rest, 0, pace);
  }

  /** Second pass: one trade frame of the same range, again in seq order. */
  addAgain(bytes: Uint8Array, off: number): void {
    const { s, t } = this.read(bytes, off);
    if (s.late === undefined) return;
    const bucket = bucketOf(t, this.intervalNs);
    if (!s.late.has(bucket)) return;
    this.redo ??= new Map();
    let bars = this.redo.get(s);
    if (bars === undefined) this.redo.set(s, (bars = new Map()));
    let bar = bars.get(bucket);
    if (bar === undefined) {
      bar = new BucketBar();
      bar.bucket = bucket;
      bars.set(bucket, bar);
    }
    bar.add(t);
  }

  /** End of the second pass: the recomputed bars, with revision 1, ordered by end, then symbol. */
  async finishAgain(pace: BarPace): Promise<void> {
    const all: [SymbolBars, BucketBar][] = [];
    for (const [s, bars] of this.redo ?? []) for (const bar of bars.values()) all.push([s, bar]);
    await this.emitAll(all, 1, pace);
  }

  /** Hands out `bars` ordered by end, then symbol, paced; stops when the pace says so. */
  private async emitAll(bars: [SymbolBars, BucketBar][], revision: number, pace: BarPace): Promise<void> {
    bars.sort(
      ([sa, a], [sb, b]) => a.bucket - b.bucket || (sa.json < sb.json ? -1 : sa.json > sb.json ? 1 : 0),
    );
    for (const [s, bar] of bars) {
      this.emit(s, bar, revision);
      const go = pace();
      if (go === false || (go !== true && !(await go))) return;
    }
  }

  /** One more symbol or open bar held, within {@link MAX_HELD}. */
  private hold(): void {
    if (++this.held > MAX_HELD) {
      throw new TickringError(
        "LIMIT_REACHED",
        `more than ${MAX_HELD} symbols and open bars at once: ask for fewer symbols or a longer interval`,
      );
    }
  }

  /** The trade frame at `bytes[off]`: its symbol's state and the trade (both reused: valid until the next). */
  private read(bytes: Uint8Array, off: number): { s: SymbolBars; t: TradeFields } {
    const f = this.fields;
    readFrameFields(bytes, off, f);
    readTrade(bytes, f, this.trade);
    return { s: this.symbols.ofSpan(bytes, f.symbolAt, f.symbolLength, f.symbolKey, off), t: this.trade };
  }

  private noteLate(s: SymbolBars, bucket: number): void {
    s.late ??= new Set();
    if (s.late.has(bucket)) return;
    if (++this.lateBars > MAX_LATE_BARS) {
      throw new TickringError(
        "LIMIT_REACHED",
        `more than ${MAX_LATE_BARS} bars of this range have trades that arrived long after them: ask for a shorter range`,
      );
    }
    s.late.add(bucket);
  }

  private emit(s: SymbolBars, bar: BucketBar, revision: number): void {
    this.sink(s, BigInt(bar.bucket + 1) * BigInt(this.intervalNs), bar, revision);
  }
}
