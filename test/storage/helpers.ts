/** Shared helpers of the storage tests: temp dirs and real encoded frames. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FrameEncoder, frameLength, type Tick } from "../../src/frame/codec.js";
import type { FrameBatch } from "../../src/storage/wal/reader.js";

/** A fresh temp dir and its cleanup. */
export function tempDir(prefix = "tickring-storage-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const BASE_TS = 1_763_900_000_000_000_000n;

export const SYMBOLS = ["AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "IBM"];

/** A deterministic tick for `seq`: symbol cycles; a book with `levels` levels per side makes it bigger. */
export function tickFor(seq: number, levels = 0, symbols = SYMBOLS, idOf?: (symbol: string) => number): Tick {
  const symbol = symbols[seq % symbols.length];
  const instrumentId = idOf?.(symbol);
  if (levels > 0) {
    const side = Array.from({ length: levels }, (_, i) => ({ price: 100 + i, size: seq + i, count: i }));
    return { type: "book", symbol, instrumentId, snapshot: seq % 2 === 0, bids: side, asks: side };
  }
  return {
    type: "trade",
    symbol,
    instrumentId,
    price: 100 + (seq % 97),
    size: seq,
    aggressor: "buy",
    tradeId: BigInt(seq),
  };
}

/** The ts_recv {@link makeFrames} gives seq `seq`. */
export function tsOf(seq: number, tsStepNs = 1000n): bigint {
  return BASE_TS + BigInt(seq) * tsStepNs;
}

/** Encodes frames for seqs `from..to` (copies: the encoder reuses its buffer). */
export function makeFrames(
  from: number,
  to: number,
  levels = 0,
  symbols = SYMBOLS,
  tsStepNs = 1000n,
  idOf?: (symbol: string) => number,
): Uint8Array[] {
  const enc = new FrameEncoder();
  const out: Uint8Array[] = [];
  for (let s = from; s <= to; s++) {
    out.push(enc.encode(tickFor(s, levels, symbols, idOf), BigInt(s), tsOf(s, tsStepNs)).slice());
  }
  return out;
}

interface SyncBatches {
  nextSync(): FrameBatch | null;
  close(): void;
}

/** Every frame from `fromSeq` to the end of the WAL, read with the sync reader, as copies. */
export function readAllWal(
  open: (fromSeq: number) => SyncBatches,
  fromSeq: number,
): { seqs: number[]; frames: Uint8Array[] } {
  const r = open(fromSeq);
  const seqs: number[] = [];
  const frames: Uint8Array[] = [];
  try {
    for (let b = r.nextSync(); b !== null; b = r.nextSync()) collect(b, seqs, frames, true);
  } finally {
    r.close();
  }
  return { seqs, frames };
}

/** Copies a batch's frames out; seqs from firstSeq + i when `consecutive`, else from the frames. */
export function collect(b: FrameBatch, seqs: number[], frames: Uint8Array[], consecutive: boolean): void {
  for (let i = 0; i < b.count; i++) {
    const o = b.offsets[i];
    // A copy as a plain Uint8Array (Buffer#slice would be a view of the reused read buffer).
    const f = new Uint8Array(b.bytes.subarray(o, o + frameLength(b.bytes, o)));
    frames.push(f);
    seqs.push(consecutive ? b.firstSeq + i : -1);
  }
}
