/**
 * A structural verifier for Frames from untrusted publishers. The FlatBuffers TypeScript runtime has no
 * verifier, and its accessors read out of bounds (or return garbage) on a malformed buffer, so binary
 * ingest checks every offset a reader would follow before any accessor runs.
 *
 * It is stricter than FlatBuffers' own verifier in one way that matters here: the sequencer writes seq,
 * ts_recv and ts_event into the frame in place (see `stampFrame`), so no two parts of a frame may share a
 * byte. Every part a reader follows is claimed as a byte span, and a span that overlaps another is
 * refused:
 *
 * ```
 *  [size prefix | root offset | "TKR1"]  [Frame vtable]  [Frame table: soffset seq ts_event ts_recv …]
 *  [symbol: length, bytes, NUL]  [body vtable]  [body table: soffset fields …]  [bids]  [asks]
 * ```
 *
 * (in any order, with padding between them). Fields of a table are claimed against each other, inside
 * their table; tables, vtables, the string and the vectors against each other. Scalars are aligned to
 * their size from the frame's first byte (as every FlatBuffers builder lays them out), doubles are finite
 * (publishers' prices and sizes, as the JSON path requires), and the symbol string is NUL-terminated.
 */
import { TickringError } from "../errors.js";
import {
  Body,
  FILE_IDENTIFIER,
  FRAME_ALIGNMENT,
  MAX_FRAME_LENGTH,
  readI32,
  readU16,
  SIZE_PREFIX_LENGTH,
} from "./codec.js";

/** One field of a table as flatc lays it out: vtable slot `4 + 2 × index`, `size` bytes. */
interface FieldSpec {
  readonly name: string;
  readonly size: 1 | 4 | 8;
  /** A double that must be finite. */
  readonly double?: true;
}

const f64 = (name: string): FieldSpec => ({ name, size: 8, double: true });

/** Frame's fields, in schema order (index i is at vtable slot 4 + 2i). */
const FRAME_FIELDS: readonly FieldSpec[] = [
  { name: "seq", size: 8 },
  { name: "ts_event", size: 8 },
  { name: "ts_recv", size: 8 },
  { name: "instrument_id", size: 4 },
  { name: "symbol", size: 4 },
  { name: "body_type", size: 1 },
  { name: "body", size: 4 },
];
const SEQ = 0;
const TS_EVENT = 1;
const TS_RECV = 2;
const INSTRUMENT_ID = 3;
const SYMBOL = 4;
const BODY_TYPE = 5;
const BODY = 6;

/** Each body's fields, in schema order. */
const BODY_FIELDS: Readonly<Record<number, readonly FieldSpec[]>> = {
  [Body.Trade]: [f64("price"), f64("size"), { name: "aggressor", size: 1 }, { name: "trade_id", size: 8 }],
  [Body.Quote]: [f64("bid_price"), f64("bid_size"), f64("ask_price"), f64("ask_size")],
  [Body.BookUpdate]: [
    { name: "snapshot", size: 1 },
    { name: "bids", size: 4 },
    { name: "asks", size: 4 },
  ],
  [Body.Bar]: [
    { name: "interval_ns", size: 8 },
    f64("open"),
    f64("high"),
    f64("low"),
    f64("close"),
    f64("volume"),
    { name: "trades", size: 4 },
    f64("vwap"),
    { name: "revision", size: 4 },
  ],
  [Body.Heartbeat]: [{ name: "latest_seq", size: 8 }],
};
/** BookUpdate's level vectors (field indexes) and the Level struct: price f64, size f64, count u32 + pad. */
const BIDS = 1;
const ASKS = 2;
const LEVEL_SIZE = 24;
const LEVEL_ALIGNMENT = 8;

/** The most fields of any table (Bar's), and the most spans one frame can claim. */
const MAX_FIELDS = 9;
const MAX_SPANS = 8;

/** A table's names in messages, built once so that verifying allocates no strings. */
interface TableNames {
  readonly name: string;
  readonly table: string;
  readonly vtable: string;
}
const namesOf = (name: string): TableNames => ({ name, table: `${name} table`, vtable: `${name} vtable` });
const FRAME_NAMES = namesOf("Frame");
const BODY_NAMES = ["NONE", "Trade", "Quote", "BookUpdate", "Bar", "Heartbeat"].map(namesOf);

/**
 * Verifies frames one at a time; after {@link verify} returns, its fields describe the frame. One instance
 * is reused for every frame and keeps the table being checked in its fields, so verifying allocates
 * nothing. Not reentrant.
 */
export class FrameVerifier {
  /** The verified frame's body type (a {@link Body} value). */
  bodyType: Body = Body.NONE;
  /** Offset (in the bytes given to {@link verify}) and length of the symbol's UTF-8 bytes. */
  symbolStart = 0;
  symbolLength = 0;
  /**
   * Whether the sequencer can stamp the frame as it is: seq, ts_event and ts_recv are present (each its
   * own 8 bytes, overlapping nothing), an instrument id is set, and the length keeps the ring's alignment.
   */
  stampable = false;

  private b: Uint8Array = new Uint8Array(0);
  private start = 0;
  private end = 0;
  /** Claimed spans of the frame: [start, end) pairs, and what each is (for messages). */
  private readonly spans = new Int32Array(2 * MAX_SPANS);
  private readonly spanNames: string[] = new Array<string>(MAX_SPANS).fill("");
  private spanCount = 0;
  /** The open table: where it and its vtable are, and its fields' positions (0 = absent). */
  private table = 0;
  private vtable = 0;
  private vtSize = 0;
  private tableSize = 0;
  private tableName = "";
  private specs: readonly FieldSpec[] = FRAME_FIELDS;
  private readonly fieldPos = new Int32Array(MAX_FIELDS);
  /** Positions of the Frame table's fields, kept while the body table is open. */
  private readonly framePos = new Int32Array(MAX_FIELDS);

  /** Throws BAD_FRAME unless bytes[offset…offset+length) is one well-formed size-prefixed Frame. */
  verify(bytes: Uint8Array, offset: number, length: number): void {
    if (length < SIZE_PREFIX_LENGTH + 8 || length > MAX_FRAME_LENGTH) {
      throw new TickringError("BAD_FRAME", `frame length ${length} is outside 12…${MAX_FRAME_LENGTH}`);
    }
    this.b = bytes;
    this.start = offset;
    this.end = offset + length;
    this.spanCount = 0;
    const root = offset + SIZE_PREFIX_LENGTH;
    for (let i = 0; i < 4; i++) {
      if (bytes[root + 4 + i] !== FILE_IDENTIFIER.charCodeAt(i)) {
        throw new TickringError("BAD_FRAME", `file identifier is not "${FILE_IDENTIFIER}"`);
      }
    }
    this.claim(offset, root + 8, "header");
    this.openTable(this.deref(root, "root offset"), FRAME_NAMES, FRAME_FIELDS);
    const pos = this.framePos;
    pos.set(this.fieldPos);

    if (pos[SYMBOL] === 0) throw new TickringError("BAD_FRAME", "frame has no symbol");
    const str = this.deref(pos[SYMBOL], "symbol");
    const strLen = this.i32(str, "symbol length") >>> 0;
    if (!this.inBounds(str + 4, strLen + 1)) throw this.error("symbol bytes are out of bounds", str);
    if (bytes[str + 4 + strLen] !== 0) throw this.error("symbol is not NUL-terminated", str);
    this.claim(str, str + 4 + strLen + 1, "symbol");
    this.symbolStart = str + 4;
    this.symbolLength = strLen;

    const bodyType = pos[BODY_TYPE] === 0 ? Body.NONE : bytes[pos[BODY_TYPE]];
    if (bodyType === Body.NONE || bodyType > Body.Heartbeat || pos[BODY] === 0) {
      throw new TickringError(
        "BAD_FRAME",
        `frame body type ${bodyType} is not one of Trade, Quote, BookUpdate, Bar`,
      );
    }
    this.bodyType = bodyType;
    this.openTable(this.deref(pos[BODY], "body"), BODY_NAMES[bodyType], BODY_FIELDS[bodyType]);
    if (bodyType === Body.BookUpdate) {
      this.levels(this.fieldPos[BIDS], "bids");
      this.levels(this.fieldPos[ASKS], "asks");
    }

    this.stampable =
      length % FRAME_ALIGNMENT === 0 &&
      pos[SEQ] !== 0 &&
      pos[TS_EVENT] !== 0 &&
      pos[TS_RECV] !== 0 &&
      pos[INSTRUMENT_ID] !== 0 &&
      readI32(bytes, pos[INSTRUMENT_ID]) !== 0;
  }

  /** Checks the table at `pos` and its vtable, claims both, and checks and places each field it has. */
  private openTable(pos: number, names: TableNames, specs: readonly FieldSpec[]): void {
    if (!this.aligned(pos, 4)) throw this.error(`${names.table} is not aligned to 4 bytes`, pos);
    const vtable = pos - this.i32(pos, names.table);
    if (!this.inBounds(vtable, 4) || !this.aligned(vtable, 2)) {
      throw this.error(`${names.vtable} is out of bounds or misaligned`, vtable);
    }
    const vtSize = readU16(this.b, vtable);
    const tableSize = readU16(this.b, vtable + 2);
    if (vtSize < 4 || vtSize % 2 !== 0 || !this.inBounds(vtable, vtSize)) {
      throw this.error(`${names.vtable} size ${vtSize} is invalid`, vtable);
    }
    if (tableSize < 4 || !this.inBounds(pos, tableSize)) {
      throw this.error(`${names.table} size ${tableSize} is invalid`, pos);
    }
    this.claim(vtable, vtable + vtSize, names.vtable);
    this.claim(pos, pos + tableSize, names.table);
    this.table = pos;
    this.vtable = vtable;
    this.vtSize = vtSize;
    this.tableSize = tableSize;
    this.tableName = names.name;
    this.specs = specs;
    for (let i = 0; i < specs.length; i++) this.fieldPos[i] = this.field(i);
  }

  /**
   * Absolute position of field `i` of the open table (0 = absent): inside the table after its soffset,
   * aligned, overlapping no other field, and finite when it is a double.
   */
  private field(i: number): number {
    const slot = 4 + 2 * i;
    if (slot >= this.vtSize) return 0;
    const rel = readU16(this.b, this.vtable + slot);
    if (rel === 0) return 0;
    const size = this.specs[i].size;
    const p = this.table + rel;
    if (rel < 4 || rel + size > this.tableSize) throw this.fieldError(i, "lies outside its table", p);
    if (!this.aligned(p, size)) throw this.fieldError(i, `is not aligned to ${size} bytes`, p);
    for (let j = 0; j < i; j++) {
      const q = this.fieldPos[j];
      if (q !== 0 && p < q + this.specs[j].size && q < p + size) {
        throw this.fieldError(i, `overlaps ${this.tableName}.${this.specs[j].name}`, p);
      }
    }
    if (this.specs[i].double === true && !this.finite(p)) throw this.fieldError(i, "is not finite", p);
    return p;
  }

  /** Checks and claims the Level vector the field at `field` points to (0 = absent). */
  private levels(field: number, name: "bids" | "asks"): void {
    if (field === 0) return;
    const vec = this.deref(field, name);
    const n = this.i32(vec, name) >>> 0;
    if (!this.inBounds(vec + 4, n * LEVEL_SIZE)) throw this.error(`${name} are out of bounds`, vec);
    if (!this.aligned(vec + 4, LEVEL_ALIGNMENT)) throw this.error(`${name} are not aligned to 8 bytes`, vec);
    this.claim(vec, vec + 4 + n * LEVEL_SIZE, name);
    for (let at = vec + 4, i = 0; i < n; i++, at += LEVEL_SIZE) {
      if (!this.finite(at) || !this.finite(at + 8)) throw this.error(`${name}[${i}] is not finite`, at);
    }
  }

  /** Claims [start, end) for `what` (a constant string), refusing it when it overlaps an earlier claim. */
  private claim(start: number, end: number, what: string): void {
    const s = this.spans;
    for (let i = 0; i < this.spanCount; i++) {
      if (start < s[2 * i + 1] && s[2 * i] < end)
        throw this.error(`${what} overlaps the ${this.spanNames[i]}`, start);
    }
    s[2 * this.spanCount] = start;
    s[2 * this.spanCount + 1] = end;
    this.spanNames[this.spanCount++] = what;
  }

  /** Follows a uoffset field to its target, which must be in bounds and 4-aligned. */
  private deref(field: number, what: string): number {
    const target = field + (this.i32(field, what) >>> 0);
    if (!this.inBounds(target, 4) || !this.aligned(target, 4)) {
      throw this.error(`${what} points out of bounds or misaligned`, field);
    }
    return target;
  }

  private inBounds(pos: number, len: number): boolean {
    return pos >= this.start && len >= 0 && pos + len <= this.end;
  }

  /** Scalars are aligned to their size from the frame's first byte, as builders lay them out. */
  private aligned(pos: number, size: number): boolean {
    return (pos - this.start) % size === 0;
  }

  /** A double whose exponent bits are all ones is an infinity or a NaN. */
  private finite(pos: number): boolean {
    return (readU16(this.b, pos + 6) & 0x7ff0) !== 0x7ff0;
  }

  private i32(pos: number, what: string): number {
    if (!this.inBounds(pos, 4)) throw this.error(`${what} is out of bounds`, pos);
    return readI32(this.b, pos);
  }

  private fieldError(i: number, problem: string, pos: number): TickringError {
    return this.error(`${this.tableName}.${this.specs[i].name} ${problem}`, pos);
  }

  private error(what: string, pos: number): TickringError {
    return new TickringError("BAD_FRAME", `${what} (at byte ${pos - this.start})`);
  }
}
