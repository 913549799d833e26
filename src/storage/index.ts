/** Public surface of the storage layer: the WAL, its reader, the LevelDB store, its indexer and retention. */
export * from "./errors.js";
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
  type WalFsyncStats,
  type WalOpenReport,
  type WalOptions,
  type WalSegmentInfo,
} from "./wal/wal.js";
export { listSegments, type SegmentFile } from "./wal/files.js";
export { WAL_DEFAULTS } from "./wal/options.js";
export { type FrameBatch, openWalReader, WalReader, type WalReaderOptions } from "./wal/reader.js";
