/**
 * Binary ingest: a message of size-prefixed Frames from a publisher, verified frame by frame before any
 * accessor reads it (see src/frame/verify.ts). Frames that already have every slot the sequencer stamps
 * pass through as sent; others are read back into a tick and re-encoded with every field present.
 */
import { TickringError } from "../../errors.js";
import {
  Bar,
  Body,
  type BookLevel,
  BookUpdate,
  type FrameEncoder,
  FrameView,
  frameLength,
  type Level,
  Quote,
  SIZE_PREFIX_LENGTH,
  Side,
  type Tick,
  Trade,
} from "../../frame/codec.js";
import { FrameVerifier } from "../../frame/verify.js";
import { SYMBOL_RULE, symbolBytesProblem } from "../../frame/symbol-rules.js";
import { MAX_TICKS_PER_MESSAGE } from "./tick-rules.js";

export class FrameDecoder {
  private readonly verifier = new FrameVerifier();
  private readonly view = new FrameView();
  private readonly trade = new Trade();
  private readonly quote = new Quote();
  private readonly book = new BookUpdate();
  private readonly bar = new Bar();

  /** @param encoder re-encodes frames that lack a stamped slot (shared with the JSON path). */
  constructor(private readonly encoder: FrameEncoder) {}

  /**
   * Verifies every frame of `bytes` and hands each to `push`, ready for the sequencer; returns the count.
   * Throws BAD_FRAME naming the frame; nothing is pushed after a throw, so the caller drops the message.
   */
  decode(bytes: Uint8Array, push: (frame: Uint8Array) => void): number {
    let count = 0;
    for (let off = 0; off < bytes.length; count++) {
      if (bytes.length - off < SIZE_PREFIX_LENGTH) {
        throw new TickringError(
          "BAD_FRAME",
          `frame ${count}: ${bytes.length - off} trailing bytes are not a frame`,
        );
      }
      const len = frameLength(bytes, off);
      if (off + len > bytes.length) {
        throw new TickringError(
          "BAD_FRAME",
          `frame ${count}: size prefix says ${len} bytes, ${bytes.length - off} remain`,
        );
      }
      try {
        this.verifier.verify(bytes, off, len);
        this.checkPublishable(bytes);
        // Frames that already have every slot the sequencer stamps are kept as sent: no re-encode.
        push(
          this.verifier.stampable
            ? bytes.subarray(off, off + len)
            : this.encoder.encode(this.toTick(bytes, off), 0n, 0n),
        );
      } catch (err) {
        if (err instanceof TickringError) throw new TickringError(err.code, `frame ${count}: ${err.message}`);
        throw err;
      }
      off += len;
      if (count >= MAX_TICKS_PER_MESSAGE) {
        throw new TickringError("BAD_FRAME", `more than ${MAX_TICKS_PER_MESSAGE} frames in one message`);
      }
    }
    if (count === 0) throw new TickringError("BAD_FRAME", "empty binary message");
    return count;
  }

  /** What the structure allows but a publisher may not send: heartbeats (the server's) and bad symbols. */
  private checkPublishable(bytes: Uint8Array): void {
    const v = this.verifier;
    if (v.bodyType === Body.Heartbeat) {
      throw new TickringError(
        "BAD_FRAME",
        "heartbeats are the server's; publish Trade, Quote, BookUpdate or Bar",
      );
    }
    const problem = symbolBytesProblem(bytes, v.symbolStart, v.symbolLength);
    if (problem !== undefined) {
      throw new TickringError(
        "BAD_FRAME",
        `symbol of ${v.symbolLength} bytes ${problem}: expected ${SYMBOL_RULE}`,
      );
    }
  }

  /** Reads a verified frame back into a tick, so it is re-encoded with every field present. */
  private toTick(bytes: Uint8Array, off: number): Tick {
    const f = this.view.wrap(bytes, off);
    const base = {
      symbol: f.symbol() ?? "",
      instrumentId: f.instrumentId() || undefined,
      tsEvent: f.tsEvent(),
    };
    switch (f.bodyType()) {
      case Body.Trade: {
        const t = f.body(this.trade) as Trade;
        const side = t.aggressor();
        const aggressor = side === Side.Buy ? "buy" : side === Side.Sell ? "sell" : undefined;
        return { ...base, type: "trade", price: t.price(), size: t.size(), aggressor, tradeId: t.tradeId() };
      }
      case Body.Quote: {
        const q = f.body(this.quote) as Quote;
        return {
          ...base,
          type: "quote",
          bidPrice: q.bidPrice(),
          bidSize: q.bidSize(),
          askPrice: q.askPrice(),
          askSize: q.askSize(),
        };
      }
      case Body.BookUpdate: {
        const u = f.body(this.book) as BookUpdate;
        const bids = levelsOf(u.bidsLength(), (i) => u.bids(i));
        const asks = levelsOf(u.asksLength(), (i) => u.asks(i));
        return { ...base, type: "book", snapshot: u.snapshot(), bids, asks };
      }
      case Body.Bar: {
        const b = f.body(this.bar) as Bar;
        return {
          ...base,
          type: "bar",
          intervalNs: b.intervalNs(),
          open: b.open(),
          high: b.high(),
          low: b.low(),
          close: b.close(),
          volume: b.volume(),
        };
      }
      default:
        throw new TickringError(
          "BAD_FRAME",
          "heartbeats are the server's; publish Trade, Quote, BookUpdate or Bar",
        );
    }
  }
}

function levelsOf(n: number, at: (i: number) => Level | null): BookLevel[] {
  const out: BookLevel[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const l = at(i)!;
    out[i] = { price: l.price(), size: l.size(), count: l.count() };
  }
  return out;
}
