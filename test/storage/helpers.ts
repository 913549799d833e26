/** Shared helpers of the storage tests: temp dirs and real encoded frames. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FrameEncoder, type Tick } from "../../src/frame/codec.js";

/** A fresh temp dir and its cleanup. */
export function tempDir(prefix = "tickring-storage-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const BASE_TS = 1_763_900_000_000_000_000n;

const SYMBOLS = ["AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "IBM"];

/** A deterministic tick for `seq`: symbol cycles, a book with `levels` levels per side makes it bigger. */
export function tickFor(seq: number, levels = 0, symbols = SYMBOLS): Tick {
  const symbol = symbols[seq % symbols.length];
  if (levels > 0) {
    const side = Array.from({ length: levels }, (_, i) => ({ price: 100 + i, size: seq + i, count: i }));
    return { type: "book", symbol, snapshot: seq % 2 === 0, bids: side, asks: side };
  }
  return {
    type: "trade",
    symbol,
    price: 100 + (seq % 97),
    size: seq,
    aggressor: "buy",
    tradeId: BigInt(seq),
  };
}

/** Encodes frames for seqs `from..to` (copies: the encoder reuses its buffer); ts_recv = BASE_TS + seq µs. */
export function makeFrames(
  from: number,
  to: number,
  levels = 0,
  symbols = SYMBOLS,
  tsStepNs = 1000n,
): Uint8Array[] {
  const enc = new FrameEncoder();
  const out: Uint8Array[] = [];
  for (let s = from; s <= to; s++) {
    out.push(enc.encode(tickFor(s, levels, symbols), BigInt(s), BASE_TS + BigInt(s) * tsStepNs).slice());
  }
  return out;
}
