/**
 * Cuts a WAL batch into the store's blocks: seq blocks (every frame, consecutive seqs) and time blocks (one
 * instrument id × one time bucket), each at most `blockBytes` (a single larger frame gets a block of its own).
 *
 * Why blocks: LevelDB costs about 4 µs per put and 3 µs per iterated entry (NOTES.md), so one entry per frame
 * caps both indexing and reads near 250K frames/s; a 32 KiB block of 100-byte frames pays that once per ~300
 * frames. The cost is one copy of each frame into each of its two blocks.
 *
 * No allocation per frame. Copying a frame between two arrays costs a view per frame
 * (`value.set(bytes.subarray(o, o + len))`; Node 20's `Buffer#copy` makes the same view inside), so each
 * batch gets ONE arena instead, and every copy is a `copyWithin` inside it (a native memmove):
 * ```
 *  arena: | seq region: the batch's frames back to back, in seq order | time region: the same, by group |
 *          0                                                          frameBytes                     2 × frameBytes
 * ```
 * The batch's byte span (frames and the WAL record headers between them) is copied in at 0 with one `set`,
 * then compacted left in place into the seq region; each time block is gathered from the seq region into the
 * time region. Block values are views of the arena, so allocation is per block (its key and its view) and per
 * batch (the arena). Measured with `npm run bench:storage` (the `indexer` line): see the commit that made it.
 */
import { frameInstrumentId, frameLength, frameTsRecvApprox } from "../../frame/codec.js";
import { StorageError } from "../errors.js";
import type { FrameBatch } from "../wal/reader.js";
import { seqKey, timeKey } from "./keys.js";
import type { LevelPut } from "./leveldb.js";

/**
 * ts_recv read as a double ({@link frameTsRecvApprox}) is within 256 ns of the truth near 2^61: time bounds
 * compare exactly only within this margin, and bucket ranges are widened by it.
 */
export const TS_SLACK_NS = 4096;

const NO_ARENA = new Uint8Array(0);

/** The frames of one instrument id in one bucket, by their index in the batch. */
interface Group {
  id: number;
  bucket: number;
  firstSeq: number;
  frames: Int32Array;
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
  /** Where each frame of the current batch sits in the arena's seq region; grows, never shrinks. */
  private at = new Int32Array(1024);
  private arena = NO_ARENA;
  private timeEnd = 0;

  constructor(
    private readonly blockBytes: number,
    private readonly bucketNs: number,
  ) {}

  /**
   * Appends to `ops` the seq blocks and time blocks holding every frame of `batch`, whose frames must lie in
   * `bytes` in seq order without overlapping (as every {@link FrameBatch} producer lays them out).
   */
  build(batch: FrameBatch, ops: LevelPut[]): void {
    if (batch.count === 0) return;
    const frameBytes = this.fillArena(batch);
    this.seqBlocks(batch, ops);
    this.timeEnd = frameBytes;
    this.timeBlocks(batch, ops);
    this.arena = NO_ARENA; // the ops hold it until LevelDB has the batch; the builder need not
  }

  /** Copies the batch into a new arena, frames back to back from 0; returns their total bytes. */
  private fillArena(batch: FrameBatch): number {
    const { bytes, offsets, count } = batch;
    if (this.at.length < count) this.at = new Int32Array(Math.max(count, this.at.length * 2));
    const start = offsets[0];
    let end = start;
    let frameBytes = 0;
    for (let i = 0; i < count; i++) {
      const o = offsets[i];
      if (o < end) {
        throw new StorageError(
          "ERR_WAL_FRAME",
          `batch frames out of order: frame ${i} at ${o} before ${end}`,
        );
      }
      end = o + frameLength(bytes, o);
      frameBytes += end - o;
    }
    const arena = new Uint8Array(Math.max(end - start, 2 * frameBytes));
    arena.set(bytes.subarray(start, end));
    const at = this.at;
    let p = 0;
    for (let i = 0; i < count; i++) {
      const src = offsets[i] - start;
      const len = frameLength(arena, src);
      // p ≤ src: moving left never overwrites a frame not yet moved.
      if (src !== p) arena.copyWithin(p, src, src + len);
      at[i] = p;
      p += len;
    }
    this.arena = arena;
    return frameBytes;
  }

  private seqBlocks(batch: FrameBatch, ops: LevelPut[]): void {
    const { count, firstSeq } = batch;
    const { arena, at } = this;
    const limit = this.blockBytes;
    let i = 0;
    while (i < count) {
      let size = 0;
      let j = i;
      while (j < count) {
        const len = frameLength(arena, at[j]);
        if (size > 0 && size + len > limit) break;
        size += len;
        j++;
      }
      ops.push({ type: "put", key: seqKey(firstSeq + i), value: arena.subarray(at[i], at[i] + size) });
      i = j;
    }
  }

  private timeBlocks(batch: FrameBatch, ops: LevelPut[]): void {
    const { count, firstSeq } = batch;
    const { arena, at, groups } = this;
    for (let i = 0; i < count; i++) {
      const o = at[i];
      const id = frameInstrumentId(arena, o);
      const bucket = bucketOf(frameTsRecvApprox(arena, o), this.bucketNs);
      const len = frameLength(arena, o);
      let g = groups.get(id);
      if (g !== undefined && (g.bucket !== bucket || (g.bytes > 0 && g.bytes + len > this.blockBytes))) {
        this.emit(g, ops);
        g.bucket = bucket;
        g.firstSeq = firstSeq + i;
      }
      if (g === undefined) {
        g = this.group(id, bucket, firstSeq + i);
        groups.set(id, g);
      }
      if (g.n === g.frames.length) {
        const bigger = new Int32Array(g.frames.length * 2);
        bigger.set(g.frames);
        g.frames = bigger;
      }
      g.frames[g.n++] = i;
      g.bytes += len;
    }
    for (const g of groups.values()) {
      this.emit(g, ops);
      this.pool.push(g);
    }
    groups.clear();
  }

  private group(id: number, bucket: number, firstSeq: number): Group {
    const g = this.pool.pop() ?? { id, bucket, firstSeq, frames: new Int32Array(64), n: 0, bytes: 0 };
    g.id = id;
    g.bucket = bucket;
    g.firstSeq = firstSeq;
    g.n = 0;
    g.bytes = 0;
    return g;
  }

  /** Gathers a group's frames from the seq region into the time region: one block. */
  private emit(g: Group, ops: LevelPut[]): void {
    const { arena, at } = this;
    const start = this.timeEnd;
    let p = start;
    for (let k = 0; k < g.n; k++) {
      const src = at[g.frames[k]];
      const len = frameLength(arena, src);
      arena.copyWithin(p, src, src + len);
      p += len;
    }
    this.timeEnd = p;
    ops.push({ type: "put", key: timeKey(g.id, g.bucket, g.firstSeq), value: arena.subarray(start, p) });
    g.n = 0;
    g.bytes = 0;
  }
}
