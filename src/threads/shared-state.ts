/**
 * Counters shared between the main thread and the subscriber workers, one Float64Array over a
 * SharedArrayBuffer. Each slot has exactly one writer, so plain stores suffice; readers (HTTP status,
 * metrics) tolerate a value that is one update old.
 *
 * ```
 *  slot  0 .. STATUS_SLOTS-1                 written by the main thread
 *  +--------+-------------+-------------+------------------+-------------+---------------+-----------------+
 *  | state  | durable seq | written seq | recovery percent | indexed seq | writer failed | ingest refused  |
 *  +--------+-------------+-------------+------------------+-------------+---------------+-----------------+
 *                                                             (the indexer thread writes the indexed seq)
 *  +-----------------+--------------------------+
 *  | replicated seq  | replication pending since |   (a leader's replicator thread writes both)
 *  +-----------------+--------------------------+
 *  slot  STATUS_SLOTS + w * WORKER_SLOTS ..   written by worker w, one block each
 *  +-------------+---------------+-------------+-----+
 *  | connections | subscriptions | frames sent | ... |   (WORKER_FIELDS order)
 *  +-------------+---------------+-------------+-----+
 * ```
 */

export const STATE_STARTING = 0;
export const STATE_READY = 1;
export const STATE_STOPPING = 2;

export const STATUS_STATE = 0;
export const STATUS_DURABLE_SEQ = STATUS_STATE + 1;
export const STATUS_WRITTEN_SEQ = STATUS_DURABLE_SEQ + 1;
export const STATUS_RECOVERY_PERCENT = STATUS_WRITTEN_SEQ + 1;
/** The store's checkpoint, written by the indexer thread after each batch it indexes. */
export const STATUS_INDEXED_SEQ = STATUS_RECOVERY_PERCENT + 1;
/**
 * 0 while the WAL works; 1 + the index in `ERROR_CODES` of the code by which it failed for good (a failed
 * fdatasync): workers then fail the messages that will never be durable.
 */
export const STATUS_WRITER_FAILED = STATUS_INDEXED_SEQ + 1;
/**
 * 0 while ingest is accepted; 1 + the index in `ERROR_CODES` of why it is refused for now (`DISK_FULL`,
 * `IO_ERROR`; under replication `READ_ONLY` on a follower, `NOT_READY` while joining or taking over): the
 * writer's one refusal state (src/daemon/writer.ts); `/healthz` says so.
 */
export const STATUS_INGEST_REFUSED = STATUS_WRITER_FAILED + 1;
/**
 * With replication (src/replication): on a leader, the highest seq JetStream has acknowledged (written by the
 * replicator thread); on a follower, the highest seq applied from the stream. 0 without replication.
 */
export const STATUS_REPLICATED_SEQ = STATUS_INGEST_REFUSED + 1;
/**
 * On a leader, the ts_recv (ns since the epoch) of the oldest frame written but not yet acknowledged by
 * JetStream, 0 when there is none: the replication lag in time is now minus it.
 */
export const STATUS_REPLICATION_PENDING_NS = STATUS_REPLICATED_SEQ + 1;
export const STATUS_SLOTS = STATUS_REPLICATION_PENDING_NS + 1;

/** Per-worker counters, in slot order. Metric names in /metrics derive from these. */
export const WORKER_FIELDS = [
  "connections",
  "subscriptions",
  "framesSent",
  "bytesSent",
  "messagesSent",
  "drops",
  "gaps",
  "conflated",
  "disconnects",
  "laps",
  "caughtUp",
  "ringPosition",
  "ringLag",
  "ingestMessages",
  "ingestTicks",
  "ingestRejected",
  "authRefused",
  "authForbidden",
  "authExpired",
  "adminActions",
] as const;
export type WorkerField = (typeof WORKER_FIELDS)[number];
export const WORKER_SLOTS = WORKER_FIELDS.length;

/** Slot index of each worker field inside a worker's block. */
export const W = Object.fromEntries(WORKER_FIELDS.map((f, i) => [f, i])) as Record<WorkerField, number>;

export function allocateSharedState(workers: number): Float64Array {
  const slots = STATUS_SLOTS + workers * WORKER_SLOTS;
  return new Float64Array(new SharedArrayBuffer(slots * Float64Array.BYTES_PER_ELEMENT));
}

/** Index of the first slot of worker `w`'s block. */
export function workerBase(w: number): number {
  return STATUS_SLOTS + w * WORKER_SLOTS;
}
