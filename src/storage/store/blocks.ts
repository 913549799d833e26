/**
 * Cuts a WAL batch into the store's blocks: seq blocks (every frame, consecutive seqs) and time blocks (one
 * instrument id × one time bucket), each at most `blockBytes` (a single larger frame gets a block of its own).
 *
 * Why blocks: LevelDB costs about 4 µs per put and 3 µs per iterated entry (NOTES.md), so one entry per frame
 * caps both indexing and reads near 250K frames/s; a 32 KiB block of 100-byte frames pays that once per ~300
 * frames. The cost is one copy of each frame into each of its two blocks.
 *
 * Per frame the builder does no allocation: it reads id, ts and length in place and notes the offset in a
 * reused per-group array; allocation is per block (its key and value).
 */
import { frameInstrumentId, frameLength, frameTsRecvApprox } from "../../frame/codec.js";
import type { FrameBatch } from "../wal/reader.js";
import { seqKey, timeKey } from "./keys.js";
import type { LevelPut } from "./leveldb.js";

/**
 * ts_recv read as a double ({@link frameTsRecvApprox}) is within 256 ns of the truth near 2^61: time bounds
 * compare exactly only within this margin, and bucket ranges are widened by it.
 */
export const TS_SLACK_NS = 4096;

interface Group {
  id: number;
  bucket: number;
  firstSeq: number;
  offs: Int32Array;
  n: number;
  bytes: number;
}

/** Which bucket a ts_recv (ns, approximate) falls in; negative times go to bucket 0. */
export function bucketOf(tsNs: number, bucketNs: number): number {
  return tsNs <= 0 ? 0 : Math.floor(tsNs / bucketNs);
}

/** Turns WAL batches into block puts. One per indexer; not reentrant. */
export class BlockBuilder {
  private readonly groups = new Map<number, Group>();
  private readonly pool: Group[] = [];

  constructor(
    private readonly blockBytes: number,
    private readonly bucketNs: number,
  ) {}

  /** Appends to `ops` the seq blocks and time blocks holding every frame of `batch`. */
  build(batch: FrameBatch, ops: LevelPut[]): void {
    this.seqBlocks(batch, ops);
    this.timeBlocks(batch, ops);
  }

  private seqBlocks(batch: FrameBatch, ops: LevelPut[]): void {
    const { bytes, offsets, count, firstSeq } = batch;
    const limit = this.blockBytes;
    let i = 0;
    while (i < count) {
      let size = 0;
      let j = i;
      while (j < count) {
        const len = frameLength(bytes, offsets[j]);
        if (size > 0 && size + len > limit) break;
        size += len;
        j++;
      }
      const value = new Uint8Array(size);
      let p = 0;
      for (let k = i; k < j; k++) {
        const o = offsets[k];
        const len = frameLength(bytes, o);
        value.set(bytes.subarray(o, o + len), p);
        p += len;
      }
      ops.push({ type: "put", key: seqKey(firstSeq + i), value });
      i = j;
    }
  }

  private timeBlocks(batch: FrameBatch, ops: LevelPut[]): void {
    const { bytes, offsets, count, firstSeq } = batch;
    const groups = this.groups;
    for (let i = 0; i < count; i++) {
      const o = offsets[i];
      const id = frameInstrumentId(bytes, o);
      const bucket = bucketOf(frameTsRecvApprox(bytes, o), this.bucketNs);
      const len = frameLength(bytes, o);
      let g = groups.get(id);
      if (g !== undefined && (g.bucket !== bucket || (g.bytes > 0 && g.bytes + len > this.blockBytes))) {
        this.emit(g, bytes, ops);
        g.bucket = bucket;
        g.firstSeq = firstSeq + i;
      }
      if (g === undefined) {
        g = this.group(id, bucket, firstSeq + i);
        groups.set(id, g);
      }
      if (g.n === g.offs.length) {
        const bigger = new Int32Array(g.offs.length * 2);
        bigger.set(g.offs);
        g.offs = bigger;
      }
      g.offs[g.n++] = o;
      g.bytes += len;
    }
    for (const g of groups.values()) {
      this.emit(g, bytes, ops);
      this.pool.push(g);
    }
    groups.clear();
  }

  private group(id: number, bucket: number, firstSeq: number): Group {
    const g = this.pool.pop() ?? { id, bucket, firstSeq, offs: new Int32Array(64), n: 0, bytes: 0 };
    g.id = id;
    g.bucket = bucket;
    g.firstSeq = firstSeq;
    g.n = 0;
    g.bytes = 0;
    return g;
  }

  private emit(g: Group, bytes: Uint8Array, ops: LevelPut[]): void {
    const value = new Uint8Array(g.bytes);
    let p = 0;
    for (let k = 0; k < g.n; k++) {
      const o = g.offs[k];
      const len = frameLength(bytes, o);
      value.set(bytes.subarray(o, o + len), p);
      p += len;
    }
    ops.push({ type: "put", key: timeKey(g.id, g.bucket, g.firstSeq), value });
    g.n = 0;
    g.bytes = 0;
  }
}
