/**
 * A structural verifier for Frames from untrusted publishers. The FlatBuffers TypeScript runtime has no
 * verifier, and its accessors read out of bounds (or return garbage) on a malformed buffer, so binary
 * ingest checks every offset a reader would follow before any accessor runs.
 */
import { TickringError } from "../errors.js";
import { Body, FILE_IDENTIFIER, MAX_FRAME_LENGTH, SIZE_PREFIX_LENGTH } from "./codec.js";

const LEVEL_SIZE = 24;

/** [vtable slot, byte size] of each body's scalar fields, as flatc laid them out. */
const SCALARS: Record<number, [number, number][]> = {
  [Body.Trade]: [
    [4, 8],
    [6, 8],
    [8, 1],
    [10, 8],
  ],
  [Body.Quote]: [
    [4, 8],
    [6, 8],
    [8, 8],
    [10, 8],
  ],
  [Body.Bar]: [
    [4, 8],
    [6, 8],
    [8, 8],
    [10, 8],
    [12, 8],
    [14, 8],
  ],
  [Body.BookUpdate]: [[4, 1]],
  [Body.Heartbeat]: [[4, 8]],
};

/** Bounds-checked little-endian reads over one frame's bytes; throws BAD_FRAME naming the offset. */
class Checker {
  constructor(
    private readonly b: Uint8Array,
    private readonly start: number,
    private readonly end: number,
  ) {}

  need(pos: number, len: number, what: string): void {
    if (pos < this.start || len < 0 || pos + len > this.end) {
      throw new TickringError("BAD_FRAME", `${what} at byte ${pos - this.start} is out of bounds`);
    }
  }

  u16(pos: number, what: string): number {
    this.need(pos, 2, what);
    return this.b[pos] | (this.b[pos + 1] << 8);
  }

  i32(pos: number, what: string): number {
    this.need(pos, 4, what);
    return this.b[pos] | (this.b[pos + 1] << 8) | (this.b[pos + 2] << 16) | (this.b[pos + 3] << 24);
  }

  /** Checks a table and returns a function giving each field's absolute position (0 = absent). */
  table(pos: number, what: string): (slot: number, size: number) => number {
    const vtable = pos - this.i32(pos, `${what} table`);
    const vtSize = this.u16(vtable, `${what} vtable`);
    const tableSize = this.u16(vtable + 2, `${what} vtable`);
    if (vtSize < 4 || vtSize % 2 !== 0)
      throw new TickringError("BAD_FRAME", `${what} vtable size ${vtSize} is invalid`);
    this.need(vtable, vtSize, `${what} vtable`);
    this.need(pos, tableSize, `${what} table`);
    return (slot, size) => {
      if (slot >= vtSize) return 0;
      const rel = this.u16(vtable + slot, `${what} field`);
      if (rel === 0) return 0;
      if (rel + size > tableSize)
        throw new TickringError("BAD_FRAME", `${what} field ${slot} overruns its table`);
      return pos + rel;
    };
  }

  /** Follows a uoffset field to its target. */
  deref(field: number, what: string): number {
    const target = field + (this.i32(field, what) >>> 0);
    this.need(target, 4, what);
    return target;
  }
}

/** Throws BAD_FRAME unless bytes[offset…offset+length) is one well-formed size-prefixed Frame. */
export function verifyFrame(bytes: Uint8Array, offset: number, length: number): void {
  if (length < SIZE_PREFIX_LENGTH + 8 || length > MAX_FRAME_LENGTH) {
    throw new TickringError("BAD_FRAME", `frame length ${length} is outside 12…${MAX_FRAME_LENGTH}`);
  }
  const c = new Checker(bytes, offset, offset + length);
  const root = offset + SIZE_PREFIX_LENGTH;
  for (let i = 0; i < 4; i++) {
    if (bytes[root + 4 + i] !== FILE_IDENTIFIER.charCodeAt(i)) {
      throw new TickringError("BAD_FRAME", `file identifier is not "${FILE_IDENTIFIER}"`);
    }
  }
  const frame = c.table(c.deref(root, "root offset"), "Frame");
  // seq, ts_event, ts_recv (8 bytes), instrument_id (4), symbol (uoffset), body_type (1), body (uoffset).
  frame(4, 8);
  frame(6, 8);
  frame(8, 8);
  frame(10, 4);
  const sym = frame(12, 4);
  if (sym === 0) throw new TickringError("BAD_FRAME", "frame has no symbol");
  const str = c.deref(sym, "symbol");
  c.need(str + 4, c.i32(str, "symbol length") >>> 0, "symbol bytes");
  const bt = frame(14, 1);
  const bodyType = bt === 0 ? Body.NONE : bytes[bt];
  const bodyField = frame(16, 4);
  if (bodyType === Body.NONE || bodyType > Body.Heartbeat || bodyField === 0) {
    throw new TickringError(
      "BAD_FRAME",
      `frame body type ${bodyType} is not one of Trade, Quote, BookUpdate, Bar`,
    );
  }
  const body = c.table(c.deref(bodyField, "body"), Body[bodyType]);
  for (const [slot, size] of SCALARS[bodyType]) body(slot, size);
  if (bodyType === Body.BookUpdate) {
    for (const slot of [6, 8]) {
      const f = body(slot, 4);
      if (f === 0) continue;
      const vec = c.deref(f, "levels");
      c.need(vec + 4, (c.i32(vec, "levels length") >>> 0) * LEVEL_SIZE, "levels");
    }
  }
}
