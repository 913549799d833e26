/**
 * Range reads of the store: every frame in a seq range (seq blocks), one symbol over a time range (time
 * blocks), and the bounds retention needs. Each read is one LevelDB iterator (an implicit snapshot), fetched
 * `readAheadBlocks` entries at a time, so its memory is about that many blocks whatever the range.
 */
import { checkInt } from "../../config/checks.js";
import {
  FrameView,
  frameLength,
  frameSeq,
  frameSymbolSpan,
  frameTsRecvApprox,
  instrumentIdOf,
  MAX_FRAME_LENGTH,
} from "../../frame/codec.js";
import { StorageOptionError } from "../errors.js";
import type { FrameBatch } from "../wal/reader.js";
import { bucketOf, TS_SLACK_NS } from "./blocks.js";
import { MAX_U64_FIELD, SEQ_KEY_LENGTH, seqKey, seqKeySeq, timeKey } from "./keys.js";
import { type LevelDb, VIEW } from "./leveldb.js";

/** A batch of one symbol's frames from {@link Store.readBySymbolTime}: seqs increase but are not consecutive. */
export type SymbolFrameBatch = FrameBatch;

/** The read side of one open store. */
export class StoreReads {
  /** Most frames one block can hold (frames are at least 8 bytes; one frame may exceed blockBytes). */
  private readonly maxFramesPerBlock: number;

  constructor(
    private readonly db: LevelDb,
    /** Width of a time bucket in ns, as stored in the database. */
    private readonly bucketNs: number,
    blockBytes: number,
    private readonly readAheadBlocks: number,
  ) {
    this.maxFramesPerBlock = Math.max(blockBytes, MAX_FRAME_LENGTH) >>> 3;
  }

  /** See {@link Store.readBySeq}. */
  async *readBySeq(from: number, to: number): AsyncGenerator<FrameBatch> {
    checkInt("from", from, 0, MAX_U64_FIELD, StorageOptionError);
    checkInt("to", to, 0, MAX_U64_FIELD, StorageOptionError);
    if (to < from) return;
    const start = (await this.blockKeyAtOrBefore(from)) ?? seqKey(0);
    const it = this.db.iterator({ ...VIEW, gte: start, lte: seqKey(to), fillCache: false });
    const offsets = new Int32Array(this.maxFramesPerBlock);
    try {
      for (;;) {
        const entries = await it.nextv(this.readAheadBlocks);
        if (entries.length === 0) return;
        for (let e = 0; e < entries.length; e++) {
          const [key, value] = entries[e];
          const blockSeq = seqKeySeq(key);
          let seq = blockSeq;
          let count = 0;
          let firstSeq = 0;
          for (let o = 0; o < value.length && seq <= to; o += frameLength(value, o), seq++) {
            if (seq < from) continue;
            if (count === 0) firstSeq = seq;
            offsets[count++] = o;
          }
          if (count > 0) {
            yield {
              bytes: value,
              offsets: offsets.subarray(0, count),
              count,
              firstSeq,
              lastSeq: firstSeq + count - 1,
            };
          }
          if (seq > to) return;
        }
      }
    } finally {
      await it.close();
    }
  }

  /** See {@link Store.readBySymbolTime}. */
  async *readBySymbolTime(
    symbol: string,
    fromNs: bigint,
    toNs: bigint,
    instrumentId = instrumentIdOf(symbol),
  ): AsyncGenerator<SymbolFrameBatch> {
    if (toNs < fromNs) return;
    const id = instrumentId;
    const want = new TextEncoder().encode(symbol);
    const fromN = Number(fromNs);
    const toN = Number(toNs);
    const b0 = bucketOf(fromN - TS_SLACK_NS, this.bucketNs);
    const b1 = Math.min(bucketOf(toN + TS_SLACK_NS, this.bucketNs), MAX_U64_FIELD);
    const it = this.db.iterator({
      ...VIEW,
      gte: timeKey(id, b0, 0),
      lte: timeKey(id, b1, MAX_U64_FIELD),
      fillCache: false,
    });
    const offsets = new Int32Array(this.maxFramesPerBlock);
    const span = new Int32Array(2);
    const view = new FrameView();
    try {
      for (;;) {
        const entries = await it.nextv(this.readAheadBlocks);
        if (entries.length === 0) return;
        for (let e = 0; e < entries.length; e++) {
          const value = entries[e][1];
          let count = 0;
          for (let o = 0; o < value.length; o += frameLength(value, o)) {
            if (!symbolIs(value, o, want, span)) continue;
            const ts = frameTsRecvApprox(value, o);
            if (ts < fromN - TS_SLACK_NS || ts > toN + TS_SLACK_NS) continue;
            if (ts < fromN + TS_SLACK_NS || ts > toN - TS_SLACK_NS) {
              // Too close to a bound for the double: read the exact int64 (rare, allocates a BigInt).
              const exact = view.wrap(value, o).tsRecv();
              if (exact < fromNs || exact > toNs) continue;
            }
            offsets[count++] = o;
          }
          if (count > 0) {
            const firstSeq = frameSeq(value, offsets[0]);
            const lastSeq = frameSeq(value, offsets[count - 1]);
            yield { bytes: value, offsets: offsets.subarray(0, count), count, firstSeq, lastSeq };
          }
        }
      }
    } finally {
      await it.close();
    }
  }

  /** First seq the store still holds (after retention), or 0 when it holds none. */
  async firstSeq(): Promise<number> {
    const it = this.db.keys({ ...VIEW, gte: seqKey(0), lte: seqKey(MAX_U64_FIELD), limit: 1 });
    try {
      const k = await it.next();
      return k === undefined ? 0 : seqKeySeq(k);
    } finally {
      await it.close();
    }
  }

  /** ts_recv (approximate ns) of the first frame of the oldest seq block, or null when empty. */
  async oldestTsApprox(): Promise<number | null> {
    const it = this.db.values({ ...VIEW, gte: seqKey(0), lte: seqKey(MAX_U64_FIELD), limit: 1 });
    try {
      const v = await it.next();
      return v === undefined ? null : frameTsRecvApprox(v, 0);
    } finally {
      await it.close();
    }
  }

  /** Key of the seq block holding `seq` (the last block starting at or before it), or null. */
  async blockKeyAtOrBefore(seq: number): Promise<Uint8Array | null> {
    const it = this.db.keys({ ...VIEW, lte: seqKey(seq), gte: seqKey(0), reverse: true, limit: 1 });
    try {
      const k = await it.next();
      return k !== undefined && k.length === SEQ_KEY_LENGTH ? k : null;
    } finally {
      await it.close();
    }
  }
}

/** True when the frame at `o` carries exactly the symbol bytes `want`. */
function symbolIs(bytes: Uint8Array, o: number, want: Uint8Array, span: Int32Array): boolean {
  frameSymbolSpan(bytes, o, span);
  const len = span[1];
  if (len !== want.length) return false;
  const at = span[0];
  for (let i = 0; i < len; i++) if (bytes[at + i] !== want[i]) return false;
  return true;
}
