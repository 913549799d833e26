/**
 * The synthetic ticks every e2e and peer publisher sends: 64 symbols in turn, prices cycling. The e2e
 * bench sends quotes as binary frames; the peers bench sends trades, as binary frames or as the JSON a
 * publisher writes, with the same fields either way.
 */
import { FrameEncoder, frameLength, stampFrame, type Tick } from "../../src/frame/codec.js";

export const SYMBOLS = Array.from({ length: 64 }, (_, i) => `SYM${i}`);
/** NATS core subject of each symbol's ticks (subscribers take `ticks.>`): tick k goes to `NATS_SUBJECTS[k % 64]`. */
export const NATS_SUBJECTS = SYMBOLS.map((s) => `ticks.${s}`);

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

/** The payload formats a peer-bench publisher sends: FlatBuffers frames, or JSON objects. */
export type TickFormat = "flatbuffers" | "json";

/** Trade k's price: 100.00 … 100.99, cycling. */
const tradePrice = (k: number) => 100 + (k % 100) / 100;

/**
 * Trades repeat every 6,400 ticks (100 prices × 64 symbols): their frames are encoded once, with
 * ts_event 0, and copied and stamped per use — encoding a frame costs ≈ 1 µs, which at a saturating
 * publisher's rate would make the publisher the bottleneck instead of the server under test.
 */
const TRADE_CYCLE = 6_400;
let tradeCycle: Buffer[] | null = null;

function tradeFrame(k: number): Buffer {
  tradeCycle ??= Array.from({ length: TRADE_CYCLE }, (_, i) =>
    Buffer.from(
      encoder.encode(
        { type: "trade", symbol: SYMBOLS[i % SYMBOLS.length], price: tradePrice(i), size: 100, tsEvent: 0n },
        0n,
        0n,
      ),
    ),
  );
  return tradeCycle[k % TRADE_CYCLE];
}

/**
 * Trades `first … first + n − 1` as one buffer of size-prefixed frames, ts_event (and ts_recv, which
 * the server overwrites) set to `tsEvent`.
 */
export function tradeFrames(first: number, n: number, tsEvent: bigint): Buffer {
  let length = 0;
  for (let i = 0; i < n; i++) length += tradeFrame(first + i).length;
  const out = Buffer.allocUnsafe(length);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0, off = 0; i < n; i++) {
    tradeFrame(first + i).copy(out, off);
    // seq 0 (the server assigns it); stamping also sets ts_event, which the pristine copy has as 0.
    stampFrame(out, view, off, 0, tsEvent);
    off += frameLength(out, off);
  }
  return out;
}

/** Trade k as the JSON object a publisher sends to tickring's `/v1/ingest` (or as a NATS payload). */
export function tradeJson(k: number, tsEvent: bigint): string {
  return `{"type":"trade","symbol":"${SYMBOLS[k % SYMBOLS.length]}","price":${tradePrice(k)},"size":100,"ts_event":"${tsEvent}"}`;
}

/** Trades `first … first + n − 1` as one tickring ingest message: a JSON array, or frames back to back. */
export function tradeMessage(format: TickFormat, first: number, n: number, tsEvent: bigint): Buffer | string {
  if (format === "flatbuffers") return tradeFrames(first, n, tsEvent);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(tradeJson(first + i, tsEvent));
  return `[${parts.join(",")}]`;
}

/** Trade k as one message payload of its own (a NATS message): one frame, or one JSON object. */
export function tradePayload(format: TickFormat, k: number, tsEvent: bigint): Buffer {
  return format === "flatbuffers" ? tradeFrames(k, 1, tsEvent) : Buffer.from(tradeJson(k, tsEvent), "latin1");
}
