/**
 * Maintenance of the store: retention's deletes by age, a replica's rollback past a seq, and the size
 * estimate. Retention's changes are written as LevelDB batches of bounded size; a rollback is ONE batch with
 * the new checkpoint, so a crash leaves either the old store or the rolled-back one.
 */
import { frameLength, frameSeq, frameTsRecvApprox } from "../../frame/codec.js";
import { bucketOf, TS_SLACK_NS } from "./blocks.js";
import {
  checkpointPut,
  MAX_U64_FIELD,
  seqKey,
  seqKeySeq,
  TAG_TIME_BLOCK,
  TIME_KEY_LENGTH,
  timeKey,
  timeKeyBucket,
  timeKeyInstrument,
  timeKeySeq,
} from "./keys.js";
import { type LevelDb, type LevelDel, type LevelPut, VIEW } from "./leveldb.js";
import type { StoreReads } from "./reads.js";

/** Deletes per LevelDB batch while retention walks the store: bounds the memory of a large delete. */
const DELETES_PER_BATCH = 1024;

/** The maintenance side of one open store. */
export class StoreMaintenance {
  constructor(
    private readonly db: LevelDb,
    private readonly reads: StoreReads,
    private readonly bucketNs: number,
    private readonly readAheadBlocks: number,
  ) {}

  /** See {@link Store.approximateBytes}. */
  approximateBytes(): Promise<number> {
    return this.db.approximateSize(seqKey(0), timeKey(0xffff_ffff, MAX_U64_FIELD, MAX_U64_FIELD));
  }

  /** See {@link Store.deleteOlderThan}. */
  async deleteOlderThan(cutoffNs: bigint): Promise<{ seqBlocks: number; timeBlocks: number }> {
    const cutoff = Number(cutoffNs);
    let seqBlocks = 0;
    let timeBlocks = 0;
    const del: LevelDel[] = [];
    const flush = async () => {
      if (del.length > 0) await this.db.batch(del.splice(0));
    };
    const it = this.db.iterator({ ...VIEW, gte: seqKey(0), lte: seqKey(MAX_U64_FIELD), fillCache: false });
    try {
      outer: for (;;) {
        const entries = await it.nextv(256);
        if (entries.length === 0) break;
        for (const [key, value] of entries) {
          if (frameTsRecvApprox(value, lastFrameOffset(value)) >= cutoff) break outer;
          del.push({ type: "del", key });
          seqBlocks++;
          if (del.length >= DELETES_PER_BATCH) await flush();
        }
      }
    } finally {
      await it.close();
    }
    await flush();
    // Time blocks: walk instrument by instrument, seeking past each one's recent buckets.
    const lastOldBucket = bucketOf(cutoff, this.bucketNs) - 1;
    const keys = this.db.keys({
      ...VIEW,
      gte: Uint8Array.of(TAG_TIME_BLOCK),
      lt: Uint8Array.of(TAG_TIME_BLOCK + 1),
    });
    try {
      for (;;) {
        const k = await keys.next();
        if (k === undefined || k.length !== TIME_KEY_LENGTH) break;
        if (timeKeyBucket(k) <= lastOldBucket) {
          del.push({ type: "del", key: k });
          timeBlocks++;
          if (del.length >= DELETES_PER_BATCH) await flush();
        } else {
          const id = timeKeyInstrument(k);
          if (id === 0xffff_ffff) break;
          keys.seek(timeKey(id + 1, 0, 0) as typeof k);
        }
      }
    } finally {
      await keys.close();
    }
    await flush();
    return { seqBlocks, timeBlocks };
  }

  /** See {@link Store.rollbackTo}; the caller checked that `seq` is below the checkpoint. */
  async rollbackTo(seq: number): Promise<void> {
    const ops: (LevelDel | LevelPut)[] = [];
    let minTs = Number.POSITIVE_INFINITY;
    const start = (await this.reads.blockKeyAtOrBefore(seq + 1)) ?? seqKey(0);
    const it = this.db.iterator({ ...VIEW, gte: start, lte: seqKey(MAX_U64_FIELD), fillCache: false });
    try {
      for (;;) {
        const entries = await it.nextv(this.readAheadBlocks);
        if (entries.length === 0) break;
        for (const [key, value] of entries) {
          let s = seqKeySeq(key);
          let keep = 0;
          for (let o = 0; o < value.length; o += frameLength(value, o), s++) {
            if (s <= seq) keep = o + frameLength(value, o);
            else minTs = Math.min(minTs, frameTsRecvApprox(value, o));
          }
          if (keep === 0) ops.push({ type: "del", key });
          else if (keep < value.length) ops.push({ type: "put", key, value: value.slice(0, keep) });
        }
      }
    } finally {
      await it.close();
    }
    if (minTs !== Number.POSITIVE_INFINITY)
      await this.rollbackTimeBlocks(seq, bucketOf(minTs - TS_SLACK_NS, this.bucketNs), ops);
    ops.push(checkpointPut(seq));
    await this.db.batch(ops);
  }

  /** Adds to `ops` the deletes and rewrites that drop frames > `seq` from time blocks of buckets ≥ `minBucket`. */
  private async rollbackTimeBlocks(
    seq: number,
    minBucket: number,
    ops: (LevelDel | LevelPut)[],
  ): Promise<void> {
    const it = this.db.iterator({
      ...VIEW,
      gte: Uint8Array.of(TAG_TIME_BLOCK),
      lt: Uint8Array.of(TAG_TIME_BLOCK + 1),
      fillCache: false,
    });
    try {
      for (;;) {
        const entry = await it.next();
        if (entry === undefined) break;
        const [key, value] = entry;
        if (key.length !== TIME_KEY_LENGTH) break;
        if (timeKeyBucket(key) < minBucket) {
          it.seek(timeKey(timeKeyInstrument(key), minBucket, 0) as typeof key);
          continue;
        }
        if (timeKeySeq(key) > seq) {
          ops.push({ type: "del", key });
          continue;
        }
        // Frames in a block are in seq order: keep the prefix with seq ≤ `seq`.
        let keep = 0;
        for (let o = 0; o < value.length && frameSeq(value, o) <= seq; o += frameLength(value, o)) {
          keep = o + frameLength(value, o);
        }
        if (keep < value.length) ops.push({ type: "put", key, value: value.slice(0, keep) });
      }
    } finally {
      await it.close();
    }
  }
}

function lastFrameOffset(block: Uint8Array): number {
  let o = 0;
  for (let next = frameLength(block, 0); next < block.length; next += frameLength(block, next)) o = next;
  return o;
}
