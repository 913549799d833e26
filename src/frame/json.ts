/**
 * The JSON shape of a frame, for `format:"json"` subscribers, the replay CLI and tests. Off the hot
 * path by design: a worker renders each frame once, shared by all its JSON subscribers.
 */
import { Bar, Body, BookUpdate, type Frame, Heartbeat, type Level, Quote, Side, Trade } from "./codec.js";

/** A frame as JSON: `seq` a number, nanosecond times as decimal strings (they exceed 2^53). */
export interface FrameObject {
  seq: number;
  type: "trade" | "quote" | "book" | "bar" | "heartbeat";
  symbol: string;
  instrument_id: number;
  ts_event: string;
  ts_recv: string;
  [field: string]: unknown;
}

const trade = new Trade();
const quote = new Quote();
const book = new BookUpdate();
const bar = new Bar();
const heartbeat = new Heartbeat();

/** Reads every field of `frame` into a plain object. */
export function frameToObject(frame: Frame): FrameObject {
  const base = {
    seq: Number(frame.seq()),
    symbol: frame.symbol() ?? "",
    instrument_id: frame.instrumentId(),
    ts_event: frame.tsEvent().toString(),
    ts_recv: frame.tsRecv().toString(),
  };
  switch (frame.bodyType()) {
    case Body.Trade: {
      const t = frame.body(trade) as Trade;
      const side = t.aggressor();
      return {
        ...base,
        type: "trade",
        price: t.price(),
        size: t.size(),
        aggressor: side === Side.Buy ? "buy" : side === Side.Sell ? "sell" : null,
        trade_id: t.tradeId().toString(),
      };
    }
    case Body.Quote: {
      const q = frame.body(quote) as Quote;
      return {
        ...base,
        type: "quote",
        bid_price: q.bidPrice(),
        bid_size: q.bidSize(),
        ask_price: q.askPrice(),
        ask_size: q.askSize(),
      };
    }
    case Body.BookUpdate: {
      const u = frame.body(book) as BookUpdate;
      return {
        ...base,
        type: "book",
        snapshot: u.snapshot(),
        bids: levels(u.bidsLength(), (i) => u.bids(i)),
        asks: levels(u.asksLength(), (i) => u.asks(i)),
      };
    }
    case Body.Bar: {
      const b = frame.body(bar) as Bar;
      return {
        ...base,
        type: "bar",
        interval_ns: b.intervalNs().toString(),
        open: b.open(),
        high: b.high(),
        low: b.low(),
        close: b.close(),
        volume: b.volume(),
        trades: b.trades(),
        vwap: b.vwap(),
        revision: b.revision(),
      };
    }
    case Body.Heartbeat: {
      const h = frame.body(heartbeat) as Heartbeat;
      return { ...base, type: "heartbeat", latest_seq: Number(h.latestSeq()) };
    }
    default:
      throw new TypeError(`frame ${base.seq} has no known body (type ${frame.bodyType()})`);
  }
}

function levels(
  n: number,
  at: (i: number) => Level | null,
): { price: number; size: number; count: number }[] {
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const l = at(i)!;
    out[i] = { price: l.price(), size: l.size(), count: l.count() };
  }
  return out;
}
