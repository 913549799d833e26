/**
 * Frames as CSV for the HTTP data endpoints and `tickring export` (their JSON is the feeds' own, from
 * src/frame/json-render.ts): rows whose columns are the common ones and those of the frame types asked for.
 * Bars computed from trades (`/v1/bars`) render with {@link barJson} and {@link barCsv}, as bar frames
 * without a seq.
 *
 * Built for throughput (bench/http): no object per frame, accessors reused, each symbol's quoted forms
 * cached, and a nanosecond time converted to decimal only when it differs from the previous frame's (the
 * frames of one ingest message share their ts_recv).
 */
import {
  Bar,
  Body,
  BookUpdate,
  FrameView,
  frameBodyType,
  frameSeq,
  frameTsEventPos,
  frameTsRecvPos,
  Level,
  Quote,
  readI32,
  readU32,
  Side,
  Trade,
} from "../frame/codec.js";
import type { OhlcvBar } from "../frame/ohlcv.js";
import { SymbolMap } from "../frame/symbol-map.js";
import { FRAME_TYPES, type FrameType } from "./frame-filter.js";

/** The text formats of the HTTP data endpoints. */
export type TextFormat = "ndjson" | "csv" | "json";

/** Content types by format. */
export const CONTENT_TYPE: Record<TextFormat, string> = {
  ndjson: "application/x-ndjson",
  csv: "text/csv; charset=utf-8",
  json: "application/json",
};

/** CSV columns every frame has, then each type's own, in the order a header lists them. */
export const COMMON_COLUMNS = ["seq", "type", "symbol", "instrument_id", "ts_event", "ts_recv"] as const;
export const TYPE_COLUMNS: Record<FrameType, readonly string[]> = {
  trade: ["price", "size", "aggressor", "trade_id"],
  quote: ["bid_price", "bid_size", "ask_price", "ask_size"],
  book: ["snapshot", "bids", "asks"],
  bar: ["interval_ns", "open", "high", "low", "close", "volume", "trades", "vwap", "revision"],
};
/** The columns of bars computed from trades: a bar frame's, without seq, instrument_id and ts_recv. */
export const BAR_COLUMNS = ["type", "symbol", "ts_event", ...TYPE_COLUMNS.bar] as const;

/** A finite number as JSON writes it; anything else as null (JSON has no NaN). */
function num(x: number): string {
  return Number.isFinite(x) ? String(x) : "null";
}

/** A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

interface SymbolText {
  json: string;
  csv: string;
}

/** A symbol's JSON and CSV forms. */
export function symbolText(symbol: string): SymbolText {
  return { json: JSON.stringify(symbol), csv: csvField(symbol) };
}

/** A signed 64-bit integer in decimal, read in halves at `pos`; the last one converted is remembered. */
class Int64Text {
  private hi = 0;
  private lo = 0;
  private text = "0";

  at(bytes: Uint8Array, pos: number): string {
    if (pos === 0) return "0";
    const lo = readU32(bytes, pos);
    const hi = readI32(bytes, pos + 4);
    if (lo !== this.lo || hi !== this.hi) {
      this.lo = lo;
      this.hi = hi;
      this.text = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
    }
    return this.text;
  }
}

/** Renders frames; one per stream (it keeps accessors and caches). */
export class FrameText {
  private readonly view = new FrameView();
  private readonly trade = new Trade();
  private readonly quote = new Quote();
  private readonly book = new BookUpdate();
  private readonly bar = new Bar();
  private readonly level = new Level();
  private readonly symbols = new SymbolMap(symbolText);
  private readonly tsEvent = new Int64Text();
  private readonly tsRecv = new Int64Text();
  /** The CSV columns of each type present, and where each type's own columns start. */
  private readonly types: readonly FrameType[];

  /** @param types the frame types CSV rows have columns for (null: all). */
  constructor(types: readonly FrameType[] | null = null) {
    this.types = FRAME_TYPES.filter((t) => types === null || types.includes(t));
  }

  /** The CSV header line. */
  csvHeader(): string {
    return [...COMMON_COLUMNS, ...this.types.flatMap((t) => TYPE_COLUMNS[t])].join(",") + "\n";
  }

  /** The frame's CSV row (line break included): empty in the columns of other types. */
  csv(bytes: Uint8Array, off: number): string {
    const f = this.view.wrap(bytes, off);
    const body = frameBodyType(bytes, off);
    let row =
      `${frameSeq(bytes, off)},${TYPE_OF[body]},${this.symbols.of(bytes, off).csv},${f.instrumentId()},` +
      `${this.tsEvent.at(bytes, frameTsEventPos(bytes, off))},${this.tsRecv.at(bytes, frameTsRecvPos(bytes, off))}`;
    for (const type of this.types) {
      if (TYPE_OF[body] !== type) {
        row += EMPTY[type];
        continue;
      }
      switch (body) {
        case Body.Trade: {
          const t = f.body(this.trade) as Trade;
          const side = t.aggressor();
          row += `,${t.price()},${t.size()},${side === Side.Buy ? "buy" : side === Side.Sell ? "sell" : ""},${t.tradeId()}`;
          break;
        }
        case Body.Quote: {
          const q = f.body(this.quote) as Quote;
          row += `,${q.bidPrice()},${q.bidSize()},${q.askPrice()},${q.askSize()}`;
          break;
        }
        case Body.BookUpdate: {
          const u = f.body(this.book) as BookUpdate;
          row += `,${u.snapshot()},${this.levelsCsv(u, true)},${this.levelsCsv(u, false)}`;
          break;
        }
        case Body.Bar: {
          const b = f.body(this.bar) as Bar;
          row += `,${b.intervalNs()},${b.open()},${b.high()},${b.low()},${b.close()},${b.volume()},${b.trades()},${b.vwap()},${b.revision()}`;
          break;
        }
      }
    }
    return row + "\n";
  }

  /** Levels as `price:size:count` separated by spaces: no comma, so no quoting. */
  private levelsCsv(u: BookUpdate, bids: boolean): string {
    const n = bids ? u.bidsLength() : u.asksLength();
    let s = "";
    for (let i = 0; i < n; i++) {
      const l = (bids ? u.bids(i, this.level) : u.asks(i, this.level))!;
      s += `${i > 0 ? " " : ""}${l.price()}:${l.size()}:${l.count()}`;
    }
    return s;
  }
}

const TYPE_OF: Record<number, FrameType> = {
  [Body.Trade]: "trade",
  [Body.Quote]: "quote",
  [Body.BookUpdate]: "book",
  [Body.Bar]: "bar",
};
const EMPTY: Record<FrameType, string> = {
  trade: ",".repeat(TYPE_COLUMNS.trade.length),
  quote: ",".repeat(TYPE_COLUMNS.quote.length),
  book: ",".repeat(TYPE_COLUMNS.book.length),
  bar: ",".repeat(TYPE_COLUMNS.bar.length),
};

/** A bar computed from trades, as the JSON object of a bar frame without seq, instrument_id and ts_recv. */
export function barJson(
  symbolJson: string,
  intervalNs: number,
  endNs: bigint,
  b: OhlcvBar,
  revision: number,
): string {
  return (
    `{"type":"bar","symbol":${symbolJson},"ts_event":"${endNs}","interval_ns":"${intervalNs}",` +
    `"open":${num(b.open)},"high":${num(b.high)},"low":${num(b.low)},"close":${num(b.close)},` +
    `"volume":${num(b.volume)},"trades":${b.trades},"vwap":${num(b.vwap)},"revision":${revision}}`
  );
}

/** The same bar as a CSV row of {@link BAR_COLUMNS} (line break included). */
export function barCsv(
  symbolCsv: string,
  intervalNs: number,
  endNs: bigint,
  b: OhlcvBar,
  revision: number,
): string {
  return `bar,${symbolCsv},${endNs},${intervalNs},${b.open},${b.high},${b.low},${b.close},${b.volume},${b.trades},${b.vwap},${revision}\n`;
}
