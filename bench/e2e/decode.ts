/**
 * What a benchmark subscriber does with every tick it gets, so that both sides of a comparison pay for
 * the same work: a JSON tick is parsed ({@link parseJson}); a binary frame is decoded, every field read
 * through the generated FlatBuffers accessors (`FrameView`, as the README tells users to): the fields
 * the JSON rendering has.
 */
import { Body, FrameView, Trade } from "../../src/frame/codec.js";

const view = new FrameView();
const trade = new Trade();
/** Folds every decoded field into one value nobody reads, so no read can be optimised away. */
let _sink = 0;

/** Decodes the size-prefixed frame at `offset` of `bytes`; returns its ts_event (0: a heartbeat). */
export function decodeFrame(bytes: Uint8Array, offset: number): number {
  const f = view.wrap(bytes, offset);
  const type = f.bodyType();
  if (type === Body.Heartbeat) return 0;
  const tsEvent = Number(f.tsEvent());
  _sink += Number(f.seq()) + Number(f.tsRecv()) + f.instrumentId() + (f.symbol()?.length ?? 0);
  if (type === Body.Trade) {
    const t = f.body(trade) as Trade;
    _sink += t.price() + t.size() + t.aggressor() + Number(t.tradeId());
  }
  return tsEvent;
}

/**
 * Parses a JSON text message as the bytes arrived (a WebSocket text message, a NATS payload): a tick, a
 * tickring control message, or an array of ticks (tickring sends a run of frames as one array).
 */
export function parseJson(bytes: Uint8Array): JsonMessage | JsonMessage[] {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString()) as
    JsonMessage | JsonMessage[];
}

/**
 * A JSON message a benchmark subscriber receives: a tick (no `op`; tickring's rendering or a NATS
 * payload as the publisher wrote it), or one of tickring's control messages.
 */
export interface JsonMessage {
  op?: string;
  ts_event?: string;
  /** `gap`: the first and last seq the server skipped for this connection. */
  from?: number;
  to?: number;
}
