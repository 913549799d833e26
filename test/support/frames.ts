/** Frames built outside our encoder, for the tests of what the ingest edge accepts. */
import * as flatbuffers from "flatbuffers";
import { Body, FILE_IDENTIFIER, Frame, Trade } from "../../src/frame/codec.js";

/**
 * A trade from a plain FlatBuffers builder, as another publisher would build it: seq, ts_event and ts_recv
 * left at 0 and instrument_id unset, so the builder elides them all.
 */
export function plainTradeFrame(symbol: string, price: number, size: number): Uint8Array {
  const b = new flatbuffers.Builder(256);
  const s = b.createString(symbol);
  const body = Trade.createTrade(b, price, size, 0, 0n);
  Frame.startFrame(b);
  Frame.addSymbol(b, s);
  Frame.addBodyType(b, Body.Trade);
  Frame.addBody(b, body);
  b.finish(Frame.endFrame(b), FILE_IDENTIFIER, true);
  return b.asUint8Array();
}
