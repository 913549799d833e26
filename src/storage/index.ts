/**
 * Public surface of the storage layer: the data directory (layout and lock), the WAL, its reader, the LevelDB
 * store, its indexer and retention. Other layers import storage only from here. Recovery, which works on
 * storage's files themselves (snapshots link WAL segments and copy the LevelDB), also imports the few
 * modules it needs beside this: the WAL's scan and file names, the store's keys and its LevelDB seam.
 */
export {
  ACKED_SEQ_FILE,
  type DataDir,
  type DataDirLayout,
  dataDirLayout,
  existingDataDir,
  LOCK_FILE,
  openDataDir,
  RESERVE_FILE,
  SNAPSHOTS_DIR,
  STORE_DIR,
  WAL_DIR,
} from "./data-dir.js";
export { freeBytes, isDiskFull, RESERVE_BYTES, SpaceReserve } from "./disk-space.js";
export { AckedSeqFile, type AckedSeqReading, readAckedSeq } from "./acked-seq.js";
export * from "./errors.js";
export { makeDir, syncDirSync } from "./make-dir.js";
export { Indexer, type IndexerOptions, type IndexerStats } from "./indexer.js";
export {
  applyRetention,
  parseRetentionOptions,
  type RetentionOptions,
  type RetentionReport,
} from "./retention.js";
export { Store, type StoreOptions, type SymbolFrameBatch } from "./store/store.js";
export {
  type FsyncPolicy,
  Wal,
  type SealedDamage,
  type WalFsyncStats,
  type WalOpenReport,
  type WalOptions,
  type WalSegmentInfo,
} from "./wal/wal.js";
export { listSegments, type SegmentFile, segmentPath } from "./wal/files.js";
export { WAL_DEFAULTS } from "./wal/options.js";
export { truncateWalAfter, type WalTruncation } from "./wal/truncate.js";
export {
  type FrameBatch,
  openWalReader,
  type WalGapListener,
  type WalGapReason,
  WalReader,
  type WalReaderOptions,
} from "./wal/reader.js";
export { holeAt, holeCovering, listHoles, type WalHole } from "./wal/holes.js";
