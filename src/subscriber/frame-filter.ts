/**
 * Which frames a subscription wants, decided in place, allocation-free, in the order that rejects cheapest:
 * the symbol key (a hash of the frame's symbol bytes, computed once per frame by the fan-out), then the
 * symbol's bytes (two symbols may share a key), then the body type (`"types"`), then a bar's interval
 * (`"bars"`). The frame's `instrument_id` plays no part: a publisher may set it to anything. A filter that
 * takes every frame ({@link FrameFilter.takesAll}) lets the real-time feed send whole ring runs.
 *
 * A subscription to every symbol may still be held to some of them (`allow`: its token's entitlement). The
 * verdict is asked once per symbol and kept by symbol key, like the wanted symbols, so matching such a frame
 * costs what matching a named symbol does.
 */
import {
  Body,
  frameBarIntervalNs,
  frameBodyType,
  frameHasSymbol,
  frameSymbolKey,
  frameSymbolSpan,
  symbolKeyOf,
} from "../frame/codec.js";

/** Which symbols a subscription to every symbol may see; asked once per symbol. */
export type SymbolAllow = (symbol: string) => boolean;

/** Verdicts of `allow` kept per filter: past this many symbols they are asked again (memory stays bounded). */
const MAX_VERDICTS = 100_000;

/** Frame types as subscriptions and the HTTP API name them. */
export type FrameType = "trade" | "quote" | "book" | "bar";

/** Every frame type, in the order docs list them. */
export const FRAME_TYPES: readonly FrameType[] = ["trade", "quote", "book", "bar"];

const BODY_OF: Record<FrameType, Body> = {
  trade: Body.Trade,
  quote: Body.Quote,
  book: Body.BookUpdate,
  bar: Body.Bar,
};
/** Heartbeats are the workers' own and never filtered out. */
const ALL_BODIES =
  (1 << Body.Trade) | (1 << Body.Quote) | (1 << Body.BookUpdate) | (1 << Body.Bar) | (1 << Body.Heartbeat);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class FrameFilter {
  /** Symbol bytes by symbol key (more than one where keys collide), or null for every symbol. */
  readonly symbols: Map<number, Uint8Array[]> | null;
  /** True when the filter takes every frame: every symbol, type and bar interval. */
  readonly takesAll: boolean;
  /** A bit per {@link Body} value wanted. */
  private readonly bodies: number;
  /** Bar intervals wanted, ns; null for all. */
  private readonly intervals: readonly number[] | null;
  private readonly span = new Int32Array(2);
  /** Symbols `allow` let through, and those it did not, by symbol key. */
  private readonly allowed = new Map<number, Uint8Array[]>();
  private readonly withheld = new Map<number, Uint8Array[]>();

  /**
   * @param symbols the symbols, or null for all (`["*"]`).
   * @param types the frame types, or null for all.
   * @param barIntervalsNs the bar intervals, or null for all.
   * @param allow for all symbols: those that may be seen; undefined = every one.
   */
  constructor(
    symbols: readonly string[] | null,
    types: readonly FrameType[] | null = null,
    barIntervalsNs: readonly number[] | null = null,
    private readonly allow?: SymbolAllow,
  ) {
    let bodies = ALL_BODIES;
    if (types !== null) {
      bodies = 1 << Body.Heartbeat;
      for (const t of types) bodies |= 1 << BODY_OF[t];
    }
    this.bodies = bodies;
    this.intervals = barIntervalsNs;
    this.takesAll =
      symbols === null && bodies === ALL_BODIES && barIntervalsNs === null && allow === undefined;
    if (symbols === null) {
      this.symbols = null;
      return;
    }
    this.symbols = new Map();
    for (const s of new Set(symbols)) {
      const key = symbolKeyOf(s);
      const list = this.symbols.get(key);
      if (list === undefined) this.symbols.set(key, [encoder.encode(s)]);
      else list.push(encoder.encode(s));
    }
  }

  /** Whether the filter wants the frame at `bytes[off]`; `key` is its {@link frameSymbolKey} when known. */
  matches(bytes: Uint8Array, off: number, key?: number): boolean {
    if (this.takesAll) return true;
    if (this.symbols !== null) {
      if (!this.symbolMatches(bytes, off, key ?? frameSymbolKey(bytes, off))) return false;
    } else if (this.allow !== undefined && !this.allows(bytes, off, key ?? frameSymbolKey(bytes, off))) {
      return false;
    }
    const body = frameBodyType(bytes, off);
    if ((this.bodies & (1 << body)) === 0) return false;
    if (body !== Body.Bar || this.intervals === null) return true;
    return this.intervals.includes(frameBarIntervalNs(bytes, off));
  }

  private symbolMatches(bytes: Uint8Array, off: number, key: number): boolean {
    return holds(this.symbols!.get(key), bytes, off);
  }

  /** The verdict of `allow` on the frame's symbol: asked on the first frame of each symbol, then kept. */
  private allows(bytes: Uint8Array, off: number, key: number): boolean {
    if (holds(this.allowed.get(key), bytes, off)) return true;
    if (holds(this.withheld.get(key), bytes, off)) return false;
    if (this.allowed.size + this.withheld.size >= MAX_VERDICTS) {
      this.allowed.clear();
      this.withheld.clear();
    }
    frameSymbolSpan(bytes, off, this.span);
    const symbol = bytes.slice(this.span[0], this.span[0] + this.span[1]);
    const verdict = this.allow!(decoder.decode(symbol));
    const verdicts = verdict ? this.allowed : this.withheld;
    const list = verdicts.get(key);
    if (list === undefined) verdicts.set(key, [symbol]);
    else list.push(symbol);
    return verdict;
  }
}

/** Whether `list` holds the frame at `bytes[off]`'s symbol. */
function holds(list: Uint8Array[] | undefined, bytes: Uint8Array, off: number): boolean {
  if (list === undefined) return false;
  for (let w = 0; w < list.length; w++) if (frameHasSymbol(bytes, off, list[w])) return true;
  return false;
}
