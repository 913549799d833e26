/**
 * The LSM store: frames indexed from the WAL into LevelDB (through its one seam, {@link ./leveldb.ts}), for
 * the two reads users make — every frame in a seq range, and one symbol over a time range. Keys and values
 * are laid out in {@link ./keys.ts}; blocks are cut by {@link BlockBuilder}. This class opens the store,
 * keeps its checkpoint and indexes; range reads are in {@link StoreReads}, retention's deletes and a
 * replica's rollback in {@link StoreMaintenance}.
 *
 * Consistency: {@link Store.index} writes a batch's blocks and the new checkpoint in ONE LevelDB batch, which
 * LevelDB applies atomically (its log record is all or nothing), so after any crash the checkpoint equals the
 * highest seq whose blocks are present — never ahead of the data, never behind it.
 *
 * Durability: LevelDB batches are written without `sync` — the WAL is the durable copy; after a power loss the
 * indexer re-indexes from the (older) checkpoint. Reads use LevelDB's implicit snapshot per iterator.
 */
import { checkInt } from "../../config/checks.js";
import { instrumentIdOf } from "../../frame/codec.js";
import { ClosedError, StorageError, StorageOptionError } from "../errors.js";
import type { FrameBatch } from "../wal/reader.js";
import { BlockBuilder } from "./blocks.js";
import { CHECKPOINT_KEY, checkpointOf, checkpointPut, MAX_U64_FIELD, META_KEY } from "./keys.js";
import { type LevelDb, type LevelPut, openLevelDb } from "./leveldb.js";
import { StoreMaintenance } from "./maintenance.js";
import { parseStoreOptions, type StoreOptions } from "./options.js";
import { StoreReads, type SymbolFrameBatch } from "./reads.js";

export type { StoreOptions } from "./options.js";
export type { SymbolFrameBatch } from "./reads.js";

/** Version of the key layout; a store written by another layout is refused at open. */
const LAYOUT_VERSION = 1;

/** The LevelDB store of indexed frames. */
export class Store {
  private readonly builder: BlockBuilder;
  private readonly reads: StoreReads;
  private readonly maintenance: StoreMaintenance;
  private _checkpoint: number;
  private closed = false;

  private constructor(
    private readonly db: LevelDb,
    blockBytes: number,
    readAheadBlocks: number,
    /** Width of a time bucket in ns, as stored in the database. */
    readonly bucketNs: number,
    checkpoint: number,
  ) {
    this.builder = new BlockBuilder(blockBytes, bucketNs);
    this.reads = new StoreReads(db, bucketNs, blockBytes, readAheadBlocks);
    this.maintenance = new StoreMaintenance(db, this.reads, bucketNs, readAheadBlocks);
    this._checkpoint = checkpoint;
  }

  /** Opens (or creates) the store in `options.dir` (or the directory given as a string). */
  static async open(options: StoreOptions | string): Promise<Store> {
    const opts = parseStoreOptions(options);
    const db = await openLevelDb(opts.dir, { multithreading: opts.multithreading });
    try {
      let bucketNs = opts.bucketMs * 1e6;
      const meta = await db.get(META_KEY);
      if (meta === undefined) {
        const json = JSON.stringify({ version: LAYOUT_VERSION, bucketNs });
        await db.put(META_KEY, new TextEncoder().encode(json));
      } else {
        const parsed = JSON.parse(new TextDecoder().decode(meta)) as { version: number; bucketNs: number };
        if (parsed.version !== LAYOUT_VERSION) {
          throw new StorageError(
            "ERR_STORAGE_OPTION",
            `store ${opts.dir} has layout version=${parsed.version}; this build reads ${LAYOUT_VERSION}`,
          );
        }
        bucketNs = parsed.bucketNs;
      }
      const checkpoint = checkpointOf(await db.get(CHECKPOINT_KEY));
      return new Store(db, opts.blockBytes, opts.readAheadBlocks, bucketNs, checkpoint);
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
   * Reads the checkpoint from the database again: another handle of the same store (the indexer thread's)
   * may have moved it. Resolves with it.
   */
  async refreshCheckpoint(): Promise<number> {
    const cp = checkpointOf(await this.db.get(CHECKPOINT_KEY));
    if (cp > this._checkpoint) this._checkpoint = cp;
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
    const ops: LevelPut[] = [];
    this.builder.build(batch, ops);
    ops.push(checkpointPut(batch.lastSeq));
    const { firstSeq, lastSeq } = batch;
    return this.db.batch(ops).then(
      () => {
        this._checkpoint = lastSeq;
      },
      (err: unknown) => {
        const msg = `store ${this.db.location}: writing seqs ${firstSeq}..${lastSeq} failed`;
        throw new StorageError("ERR_STORE_IO", msg, { cause: err });
      },
    );
  }

  /**
   * Records that seqs `from` (which must be `checkpoint + 1`) to `to` will never be indexed: the WAL cannot
   * give them (an unreadable range of a sealed segment, or a hole `tickring wal repair` recorded). The
   * checkpoint moves to `to` with no frame written — so every seq up to the checkpoint is in the store or was
   * skipped — and a range read finds none there (readers report a gap).
   */
  skip(from: number, to: number): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError("ERR_STORE_CLOSED", "store"));
    if (from !== this._checkpoint + 1 || to < from) {
      return Promise.reject(
        new StorageError(
          "ERR_WAL_SEQ",
          `store skip out of order: checkpoint=${this._checkpoint}, skip ${from}..${to}`,
        ),
      );
    }
    return this.db.batch([checkpointPut(to)]).then(
      () => {
        this._checkpoint = to;
      },
      (err: unknown) => {
        throw new StorageError(
          "ERR_STORE_IO",
          `store ${this.db.location}: skipping seqs ${from}..${to} failed`,
          {
            cause: err,
          },
        );
      },
    );
  }

  /**
   * Every frame with seq in [from, to] in seq order, as batches of consecutive seqs (one per block). A batch's
   * `offsets` is reused: it is valid until the next iteration. Memory: about `readAheadBlocks` blocks.
   */
  readBySeq(from: number, to: number): AsyncGenerator<FrameBatch> {
    return this.reads.readBySeq(from, to);
  }

  /**
   * The frames of `symbol` with ts_recv in [fromNs, toNs] (inclusive), in bucket order and seq order inside a
   * bucket — that is time order while ts_recv grows with seq. Scans only that symbol's instrument id, filtering
   * out colliding symbols by their bytes. A batch's `offsets` is reused: valid until the next iteration.
   * `instrumentId` is only needed when the feed set ids of its own instead of the codec's default.
   */
  readBySymbolTime(
    symbol: string,
    fromNs: bigint,
    toNs: bigint,
    instrumentId = instrumentIdOf(symbol),
  ): AsyncGenerator<SymbolFrameBatch> {
    return this.reads.readBySymbolTime(symbol, fromNs, toNs, instrumentId);
  }

  /** First seq the store still holds (after retention), or 0 when it holds none. */
  firstSeq(): Promise<number> {
    return this.reads.firstSeq();
  }

  /** ts_recv (approximate ns) of the first frame of the oldest seq block, or null when empty. */
  oldestTsApprox(): Promise<number | null> {
    return this.reads.oldestTsApprox();
  }

  /** LevelDB's estimate of the bytes the blocks take on disk. */
  approximateBytes(): Promise<number> {
    return this.maintenance.approximateBytes();
  }

  /**
   * Deletes data older than `cutoffNs`, at block granularity: seq blocks whose last frame is older, oldest
   * first, stopping at the first that is not; time blocks of buckets that end before the cutoff. Returns how
   * many blocks went. Never touches the checkpoint.
   */
  deleteOlderThan(cutoffNs: bigint): Promise<{ seqBlocks: number; timeBlocks: number }> {
    return this.maintenance.deleteOlderThan(cutoffNs);
  }

  /**
   * Drops every frame above `seq` and moves the checkpoint back to it, in one atomic batch: a replica whose
   * tail never reached the replicated log gives it up for the log's frames under the same seqs
   * (src/replication). Nothing else rolls the store back: a store ahead of the WAL holds what the WAL lost.
   */
  async rollbackTo(seq: number): Promise<void> {
    checkInt("seq", seq, 0, MAX_U64_FIELD, StorageOptionError);
    if (this.closed) throw new ClosedError("ERR_STORE_CLOSED", "store");
    if (seq >= this._checkpoint) return;
    await this.maintenance.rollbackTo(seq);
    this._checkpoint = seq;
  }

  /** Closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }
}
