/**
 * Maintenance of the store: retention's deletes by age, and the size estimate. Each change is written as
 * LevelDB batches of bounded size.
 */
import { frameLength, frameTsRecvApprox } from "../../frame/codec.js";
import { bucketOf } from "./blocks.js";
import {
  MAX_U64_FIELD,
  seqKey,
  TAG_TIME_BLOCK,
  TIME_KEY_LENGTH,
  timeKey,
  timeKeyBucket,
  timeKeyInstrument,
} from "./keys.js";
import { type LevelDb, type LevelDel, VIEW } from "./leveldb.js";

/** Deletes per LevelDB batch while retention walks the store: bounds the memory of a large delete. */
const DELETES_PER_BATCH = 1024;

/** The maintenance side of one open store. */
export class StoreMaintenance {
  constructor(
    private readonly db: LevelDb,
    private readonly bucketNs: number,
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
}

function lastFrameOffset(block: Uint8Array): number {
  let o = 0;
  for (let next = frameLength(block, 0); next < block.length; next += frameLength(block, next)) o = next;
  return o;
}
