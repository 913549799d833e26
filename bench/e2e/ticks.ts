/** The synthetic quotes every e2e and peer publisher sends: 64 symbols in turn, prices cycling. */
import { FrameEncoder, type Tick } from "../../src/frame/codec.js";

export const SYMBOLS = Array.from({ length: 64 }, (_, i) => `SYM${i}`);

const encoder = new FrameEncoder();

/** Ticks `first … first + n − 1` of the stream, all stamped `tsEvent`, each its own size-prefixed frame. */
export function encodeTicks(first: number, n: number, tsEvent: bigint): Buffer[] {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const k = first + i;
    const tick: Tick = {
      type: "quote",
      symbol: SYMBOLS[k % SYMBOLS.length],
      bidPrice: 100 + (k % 100) / 100,
      bidSize: 100,
      askPrice: 100.02 + (k % 100) / 100,
      askSize: 200,
      tsEvent,
    };
    parts.push(Buffer.from(encoder.encode(tick, 0n, 0n)));
  }
  return parts;
}
