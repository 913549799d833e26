/** Bars by brute force, the definition of docs/protocol.md spelled out with BigInts, for the bar tests. */

/** A trade as the brute force sees it. */
export interface TradeRecord {
  symbol: string;
  seq: number;
  tsEvent: bigint;
  price: number;
  size: number;
}

/** A bar as the tests compare them. */
export interface BarRecord {
  symbol: string;
  intervalNs: bigint;
  /** Bucket end, ns (the bar frame's ts_event). */
  endNs: bigint;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  trades: number;
  vwap: number;
}

/** Every non-empty bar of `trades` at `intervalNs`, keyed `symbol/end`. */
export function bruteForceBars(trades: readonly TradeRecord[], intervalNs: bigint): Map<string, BarRecord> {
  const groups = new Map<string, TradeRecord[]>();
  for (const t of [...trades].sort((a, b) => a.seq - b.seq)) {
    const end = (t.tsEvent / intervalNs + 1n) * intervalNs;
    const key = `${t.symbol}/${end}`;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [t]);
    else g.push(t);
  }
  const out = new Map<string, BarRecord>();
  const order = (a: TradeRecord, b: TradeRecord) =>
    a.tsEvent !== b.tsEvent ? (a.tsEvent < b.tsEvent ? -1 : 1) : a.seq - b.seq;
  for (const [key, g] of groups) {
    const byTime = [...g].sort(order);
    let volume = 0;
    let notional = 0;
    for (const t of g) {
      volume += t.size;
      notional += t.price * t.size;
    }
    const close = byTime[byTime.length - 1].price;
    out.set(key, {
      symbol: g[0].symbol,
      intervalNs,
      endNs: BigInt(key.slice(key.lastIndexOf("/") + 1)),
      open: byTime[0].price,
      high: Math.max(...g.map((t) => t.price)),
      low: Math.min(...g.map((t) => t.price)),
      close,
      volume,
      trades: g.length,
      vwap: volume === 0 ? close : notional / volume,
    });
  }
  return out;
}

/**
 * Bar objects (the JSON of bar frames, or `/v1/bars` rows) as {@link BarRecord}s keyed `symbol/end`: the
 * last one of each key wins, as a client keeps the highest revision of a bar. Other objects are skipped.
 */
export function barRecordsOf(objects: Iterable<Record<string, unknown>>): Map<string, BarRecord> {
  const out = new Map<string, BarRecord>();
  for (const b of objects) {
    if (b.type !== "bar") continue;
    out.set(`${b.symbol}/${b.ts_event}`, {
      symbol: b.symbol as string,
      intervalNs: BigInt(b.interval_ns as string),
      endNs: BigInt(b.ts_event as string),
      open: b.open as number,
      high: b.high as number,
      low: b.low as number,
      close: b.close as number,
      volume: b.volume as number,
      trades: b.trades as number,
      vwap: b.vwap as number,
    });
  }
  return out;
}
