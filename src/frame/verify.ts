/**
 * A structural verifier for Frames from untrusted publishers. The FlatBuffers TypeScript runtime has no
 * verifier, and its accessors read out of bounds (or return garbage) on a malformed buffer, so binary
 * ingest checks every offset a reader would follow before any accessor runs.
 */
import { TickringError } from "../errors.js";
import { Body, FILE_IDENTIFIER, MAX_FRAME_LENGTH, readI32, readU16, SIZE_PREFIX_LENGTH } from "./codec.js";

const LEVEL_SIZE = 24;
/** Vtable slots of BookUpdate's bids and asks. */
const LEVEL_SLOTS = [6, 8];
const BODY_NAMES = ["NONE", "Trade", "Quote", "BookUpdate", "Bar", "Heartbeat"];

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

/**
 * Bounds-checked little-endian reads over one frame's bytes; throws BAD_FRAME naming the offset. One
 * instance is reused for every frame and the table being checked lives in its fields, so verifying a
 * frame allocates nothing.
 */
class Checker {
  private b: Uint8Array = new Uint8Array(0);
  private start = 0;
  private end = 0;
  private table = 0;
  private vtable = 0;
  private vtSize = 0;
  private tableSize = 0;
  private what = "";

  reset(b: Uint8Array, start: number, end: number): void {
    this.b = b;
    this.start = start;
    this.end = end;
  }

  need(pos: number, len: number, what: string): void {
    if (pos < this.start || len < 0 || pos + len > this.end) {
      throw new TickringError("BAD_FRAME", `${what} at byte ${pos - this.start} is out of bounds`);
    }
  }

  u16(pos: number, what: string): number {
    this.need(pos, 2, what);
    return readU16(this.b, pos);
  }

  i32(pos: number, what: string): number {
    this.need(pos, 4, what);
    return readI32(this.b, pos);
  }

  /** Checks the table at `pos` and makes it the one {@link field} reads. */
  openTable(pos: number, what: string): void {
    const vtable = pos - this.i32(pos, `${what} table`);
    const vtSize = this.u16(vtable, `${what} vtable`);
    const tableSize = this.u16(vtable + 2, `${what} vtable`);
    if (vtSize < 4 || vtSize % 2 !== 0)
      throw new TickringError("BAD_FRAME", `${what} vtable size ${vtSize} is invalid`);
    this.need(vtable, vtSize, `${what} vtable`);
    this.need(pos, tableSize, `${what} table`);
    this.table = pos;
    this.vtable = vtable;
    this.vtSize = vtSize;
    this.tableSize = tableSize;
    this.what = what;
  }

  /** Absolute position of a field of the open table (0 = absent), checked to lie inside the table. */
  field(slot: number, size: number): number {
    if (slot >= this.vtSize) return 0;
    const rel = this.u16(this.vtable + slot, `${this.what} field`);
    if (rel === 0) return 0;
    if (rel + size > this.tableSize)
      throw new TickringError("BAD_FRAME", `${this.what} field ${slot} overruns its table`);
    return this.table + rel;
  }

  /** Follows a uoffset field to its target. */
  deref(field: number, what: string): number {
    const target = field + (this.i32(field, what) >>> 0);
    this.need(target, 4, what);
    return target;
  }
}

const c = new Checker();

/** Throws BAD_FRAME unless bytes[offset…offset+length) is one well-formed size-prefixed Frame. */
export function verifyFrame(bytes: Uint8Array, offset: number, length: number): void {
  if (length < SIZE_PREFIX_LENGTH + 8 || length > MAX_FRAME_LENGTH) {
    throw new TickringError("BAD_FRAME", `frame length ${length} is outside 12…${MAX_FRAME_LENGTH}`);
  }
  c.reset(bytes, offset, offset + length);
  const root = offset + SIZE_PREFIX_LENGTH;
  for (let i = 0; i < 4; i++) {
    if (bytes[root + 4 + i] !== FILE_IDENTIFIER.charCodeAt(i)) {
      throw new TickringError("BAD_FRAME", `file identifier is not "${FILE_IDENTIFIER}"`);
    }
  }
  c.openTable(c.deref(root, "root offset"), "Frame");
  // seq, ts_event, ts_recv (8 bytes), instrument_id (4), symbol (uoffset), body_type (1), body (uoffset).
  c.field(4, 8);
  c.field(6, 8);
  c.field(8, 8);
  c.field(10, 4);
  const sym = c.field(12, 4);
  if (sym === 0) throw new TickringError("BAD_FRAME", "frame has no symbol");
  const str = c.deref(sym, "symbol");
  c.need(str + 4, c.i32(str, "symbol length") >>> 0, "symbol bytes");
  const bt = c.field(14, 1);
  const bodyType = bt === 0 ? Body.NONE : bytes[bt];
  const bodyField = c.field(16, 4);
  if (bodyType === Body.NONE || bodyType > Body.Heartbeat || bodyField === 0) {
    throw new TickringError(
      "BAD_FRAME",
      `frame body type ${bodyType} is not one of Trade, Quote, BookUpdate, Bar`,
    );
  }
  c.openTable(c.deref(bodyField, "body"), BODY_NAMES[bodyType]);
  const scalars = SCALARS[bodyType];
  for (let i = 0; i < scalars.length; i++) c.field(scalars[i][0], scalars[i][1]);
  if (bodyType === Body.BookUpdate) {
    for (const slot of LEVEL_SLOTS) {
      const f = c.field(slot, 4);
      if (f === 0) continue;
      const vec = c.deref(f, "levels");
      c.need(vec + 4, (c.i32(vec, "levels length") >>> 0) * LEVEL_SIZE, "levels");
    }
  }
}
