/**
 * Public surface of recovery: startup recovery (with the status server that answers while it runs), index
 * progress, snapshots (create, verify, restore, list), the repair of the WAL's end, and a replica's cut. Other layers import
 * recovery only from here.
 */
export * from "./errors.js";
export { type IndexingStats, IndexProgress, type IndexProgressOptions } from "./index-progress.js";
export { OnlineSnapshots, type OnlineSnapshotsOptions } from "./online-snapshots.js";
export type { OnProgress } from "./progress.js";
export { cutReplicaTail } from "./replica-cut.js";
export {
  type CreateSnapshotOptions,
  createSnapshot,
  type LiveWal,
  type SnapshotResult,
} from "./snapshot-create.js";
export { MANIFEST_VERSION, type Manifest, type ManifestFile } from "./snapshot-layout.js";
export { listSnapshots, pruneSnapshots, type SnapshotEntry } from "./snapshot-list.js";
export { type RestoreOptions, restoreSnapshot } from "./snapshot-restore.js";
export { readManifest, type VerifyReport, verifySnapshot } from "./snapshot-verify.js";
export { type Recovered, type RecoverOptions, recoverDataDir } from "./startup.js";
export { scratchStoreCopy } from "./store-copy.js";
export { applyWalRepair, type WalRepairResult } from "./wal-repair.js";
export {
  describeDamage,
  type PlanOptions,
  planWalRepair,
  ranges,
  WalDamageError,
  type WalRepairPlan,
} from "./wal-repair-plan.js";
