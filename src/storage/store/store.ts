/**
 * The LSM store: frames indexed from the WAL into LevelDB (classic-level, the one seam to it), for the two reads
 * users make — every frame in a seq range, and one symbol over a time range. Keys and values are laid out in
 * {@link ./keys.ts}; blocks are cut by {@link BlockBuilder}.
 *
 * Consistency: {@link Store.index} writes a batch's blocks and the new checkpoint in ONE LevelDB batch, which
 * LevelDB applies atomically (its log record is all or nothing), so after any crash the checkpoint equals the
 * highest seq whose blocks are present — never ahead of the data, never behind it.
 *
 * Durability: LevelDB batches are written without `sync` — the WAL is the durable copy; after a power loss the
 * indexer re-indexes from the (older) checkpoint. Reads use LevelDB's implicit snapshot per iterator.
 */
import { ClassicLevel } from "classic-level";
import { checkInt, stripUndefined } from "../../config/checks.js";
import {
  FrameView,
  frameLength,
  frameSeq,
  frameSymbolSpan,
  frameTsRecvApprox,
  instrumentIdOf,
  MAX_FRAME_LENGTH,
} from "../../frame/codec.js";
import { ClosedError, StorageError, StorageOptionError } from "../errors.js";
import { BlockBuilder, type BlockPut, bucketOf } from "./blocks.js";
import {
  CHECKPOINT_KEY,
  MAX_U64_FIELD,
  META_KEY,
  readU64,
  SEQ_KEY_LENGTH,
  seqKey,
  seqKeySeq,
  TAG_TIME_BLOCK,
  TIME_KEY_LENGTH,
  timeKey,
  timeKeyBucket,
  timeKeyInstrument,
  timeKeySeq,
  writeU64,
} from "./keys.js";
import type { FrameBatch } from "../wal/reader.js";

/** Options of {@link Store.open}. */
export interface StoreOptions {
  /** Directory of the LevelDB database (the daemon passes `<data>/lsm`). */
  dir: string;
  /**
   * Open so that worker threads of this process may open the same directory too (the replay pool); every
   * opener must pass it. On by default: the daemon's replay workers read the store while the main thread indexes.
   * @default true
   */
  multithreading?: boolean;
  /** Largest block value written by the indexer (a larger single frame gets its own block). @default 32 KiB */
  blockBytes?: number;
  /**
   * Width of a time bucket in ms, fixed when the store is created (stored in it; later values are ignored).
   * @default 30000
   */
  bucketMs?: number;
  /** Entries fetched per `nextv` by range readers: bounds their memory to about this × blockBytes. @default 32 */
  readAheadBlocks?: number;
}

const STORE_DEFAULTS = {
  multithreading: true,
  blockBytes: 32 * 1024,
  bucketMs: 30_000,
  readAheadBlocks: 32,
};

type ResolvedStoreOptions = Required<StoreOptions>;

function parseStoreOptions(options: StoreOptions | string): ResolvedStoreOptions {
  const given = typeof options === "string" ? { dir: options } : options;
  const o = { ...STORE_DEFAULTS, ...stripUndefined(given) } as ResolvedStoreOptions;
  if (typeof o.dir !== "string" || o.dir === "")
    throw new StorageOptionError("dir", o.dir, "a directory path");
  if (typeof o.multithreading !== "boolean") {
    throw new StorageOptionError("multithreading", o.multithreading, "a boolean");
  }
  checkInt("blockBytes", o.blockBytes, 256, 16 * 1024 * 1024, StorageOptionError);
  checkInt("bucketMs", o.bucketMs, 1, 366 * 86_400_000, StorageOptionError);
  checkInt("readAheadBlocks", o.readAheadBlocks, 1, 4096, StorageOptionError);
  return o;
}

/** A batch of one symbol's frames from {@link Store.readBySymbolTime}: seqs increase but are not consecutive. */
export type SymbolFrameBatch = FrameBatch;

/** A seq/time bound pair of what the store holds. */
export interface StoreExtent {
  firstSeq: number;
  lastSeq: number;
}

type Db = ClassicLevel<Uint8Array, Uint8Array>;

const VIEW = { keyEncoding: "view", valueEncoding: "view" } as const;
/** ts_recv read as a double is within 256 ns of the truth near 2^61; compare exactly within this margin. */
const TS_SLACK_NS = 4096;

/** The LevelDB store of indexed frames. */
export class Store {
  private readonly builder: BlockBuilder;
  private _checkpoint: number;
  private closed = false;

  private constructor(
    private readonly db: Db,
    private readonly opts: ResolvedStoreOptions,
    /** Width of a time bucket in ns, as stored in the database. */
    readonly bucketNs: number,
    checkpoint: number,
  ) {
    this.builder = new BlockBuilder(opts.blockBytes, bucketNs);
    this._checkpoint = checkpoint;
  }

  /** Opens (or creates) the store in `options.dir` (or the directory given as a string). */
  static async open(options: StoreOptions | string): Promise<Store> {
    const opts = parseStoreOptions(options);
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(opts.dir, VIEW);
    await db.open({ multithreading: opts.multithreading });
    try {
      let bucketNs = opts.bucketMs * 1e6;
      const meta = await db.get(META_KEY);
      if (meta === undefined) {
        await db.put(META_KEY, new TextEncoder().encode(JSON.stringify({ version: 1, bucketNs })));
      } else {
        const parsed = JSON.parse(new TextDecoder().decode(meta)) as { version: number; bucketNs: number };
        if (parsed.version !== 1) {
          throw new StorageError(
            "ERR_STORAGE_OPTION",
            `store ${opts.dir} has layout version=${parsed.version}; this build reads 1`,
          );
        }
        bucketNs = parsed.bucketNs;
      }
      const cp = await db.get(CHECKPOINT_KEY);
      return new Store(db, opts, bucketNs, cp === undefined ? 0 : readU64(cp, 0));
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  /** Highest seq indexed (0 when empty): every seq ≤ it is in the store, none above it. */
  get checkpoint(): number {
    return this._checkpoint;
  }

  /**
   * Indexes a batch of consecutive frames that must start at `checkpoint + 1`: writes its blocks and the new
   * checkpoint in one atomic LevelDB batch. The frames are copied before this returns its promise, so the
   * caller may reuse the batch's buffer at once.
   */
  index(batch: FrameBatch): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError("ERR_STORE_CLOSED", "store"));
    if (batch.count === 0) return Promise.resolve();
    if (batch.firstSeq !== this._checkpoint + 1) {
      return Promise.reject(
        new StorageError(
          "ERR_WAL_SEQ",
          `store index out of order: checkpoint=${this._checkpoint}, batch firstSeq=${batch.firstSeq}`,
        ),
      );
    }
    const ops: BlockPut[] = [];
    this.builder.build(batch, ops);
    const cp = new Uint8Array(8);
    writeU64(cp, 0, batch.lastSeq);
    ops.push({ type: "put", key: CHECKPOINT_KEY, value: cp });
    const lastSeq = batch.lastSeq;
    return this.db.batch(ops).then(() => {
      this._checkpoint = lastSeq;
    });
  }

  /**
   * Every frame with seq in [from, to] in seq order, as batches of consecutive seqs (one per block). A batch's
   * `offsets` is reused: it is valid until the next iteration. Memory: about `readAheadBlocks` blocks.
   */
  async *readBySeq(from: number, to: number): AsyncGenerator<FrameBatch> {
    checkInt("from", from, 0, MAX_U64_FIELD, StorageOptionError);
    checkInt("to", to, 0, MAX_U64_FIELD, StorageOptionError);
    if (to < from) return;
    const start = (await this.blockKeyAtOrBefore(from)) ?? seqKey(0);
    const it = this.db.iterator({ ...VIEW, gte: start, lte: seqKey(to), fillCache: false });
    const offsets = new Int32Array(maxFramesPerBlock(this.opts.blockBytes));
    try {
      for (;;) {
        const entries = await it.nextv(this.opts.readAheadBlocks);
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

  /**
   * The frames of `symbol` with ts_recv in [fromNs, toNs] (inclusive), in bucket order and seq order inside a
   * bucket — that is time order while ts_recv grows with seq. Scans only that symbol's instrument id, filtering
   * out colliding symbols by their bytes. A batch's `offsets` is reused: valid until the next iteration.
   * `instrumentId` is only needed when the feed set ids of its own instead of the codec's default.
   */
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
    const offsets = new Int32Array(maxFramesPerBlock(this.opts.blockBytes));
    const span = new Int32Array(2);
    const view = new FrameView();
    try {
      for (;;) {
        const entries = await it.nextv(this.opts.readAheadBlocks);
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

  /** LevelDB's estimate of the bytes the blocks take on disk. */
  approximateBytes(): Promise<number> {
    return this.db.approximateSize(seqKey(0), timeKey(0xffff_ffff, MAX_U64_FIELD, MAX_U64_FIELD));
  }

  /**
   * Deletes data older than `cutoffNs`, at block granularity: seq blocks whose last frame is older, oldest
   * first, stopping at the first that is not; time blocks of buckets that end before the cutoff. Returns how
   * many blocks went. Never touches the checkpoint.
   */
  async deleteOlderThan(cutoffNs: bigint): Promise<{ seqBlocks: number; timeBlocks: number }> {
    const cutoff = Number(cutoffNs);
    let seqBlocks = 0;
    let timeBlocks = 0;
    const del: { type: "del"; key: Uint8Array }[] = [];
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
          if (del.length >= 1024) await flush();
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
          if (del.length >= 1024) await flush();
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

  /**
   * Removes every frame with seq > `seq` and sets the checkpoint to `seq`, in one atomic batch. For recovery
   * when the WAL was cut below the store's checkpoint (a corrupt record in synced data, or `fsync: "os"` after
   * a power loss): the sequencer then reuses those seqs, so the store must forget them first.
   *
   * Cost: the seq blocks after `seq`, and for each instrument only the time blocks from the bucket of the
   * earliest ts_recv among the removed frames on (a removed frame cannot sit in an earlier bucket).
   */
  async rollbackTo(seq: number): Promise<void> {
    checkInt("seq", seq, 0, MAX_U64_FIELD, StorageOptionError);
    if (seq >= this._checkpoint) return;
    const ops: ({ type: "del"; key: Uint8Array } | BlockPut)[] = [];
    let minTs = Number.POSITIVE_INFINITY;
    const start = (await this.blockKeyAtOrBefore(seq + 1)) ?? seqKey(0);
    const it = this.db.iterator({ ...VIEW, gte: start, lte: seqKey(MAX_U64_FIELD), fillCache: false });
    try {
      for (;;) {
        const entries = await it.nextv(this.opts.readAheadBlocks);
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
    const cp = new Uint8Array(8);
    writeU64(cp, 0, seq);
    ops.push({ type: "put", key: CHECKPOINT_KEY, value: cp });
    await this.db.batch(ops);
    this._checkpoint = seq;
  }

  /** Adds to `ops` the deletes and rewrites that drop frames > `seq` from time blocks of buckets ≥ `minBucket`. */
  private async rollbackTimeBlocks(
    seq: number,
    minBucket: number,
    ops: ({ type: "del"; key: Uint8Array } | BlockPut)[],
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

  /** Closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  /** Key of the seq block holding `seq` (the last block starting at or before it), or null. */
  private async blockKeyAtOrBefore(seq: number): Promise<Uint8Array | null> {
    const it = this.db.keys({ ...VIEW, lte: seqKey(seq), gte: seqKey(0), reverse: true, limit: 1 });
    try {
      const k = await it.next();
      return k !== undefined && k.length === SEQ_KEY_LENGTH ? k : null;
    } finally {
      await it.close();
    }
  }
}

/** Most frames one block can hold (frames are at least 8 bytes; one frame may exceed blockBytes). */
function maxFramesPerBlock(blockBytes: number): number {
  return Math.max(blockBytes, MAX_FRAME_LENGTH) >>> 3;
}

function lastFrameOffset(block: Uint8Array): number {
  let o = 0;
  for (let next = frameLength(block, 0); next < block.length; next += frameLength(block, next)) o = next;
  return o;
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
