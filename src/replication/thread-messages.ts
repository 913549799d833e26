/** Messages between the main thread and the replicator thread (replicator-worker.ts). */

/** What the replicator thread starts from. */
export interface ReplicatorInit {
  /** nats://host:port[,…] */
  servers: string;
  stream: string;
  /** This node's id. */
  leader: string;
  walDir: string;
  /** The daemon's shared state: it reads the written seq and writes the replicated seq. */
  shared: Float64Array;
  /** The broadcast ring: the thread sleeps on it until the writer publishes. */
  ring: SharedArrayBuffer;
  fromSeq: number;
  afterStreamSeq: number;
  /** Tell the main thread each advance of the replicated seq (acks wait for it: `--ack-after replicated`). */
  announce: boolean;
  logLevel: string;
}

export type FromReplicator =
  | { t: "started" }
  /** The stream holds every seq up to `seq` (coalesced: one message per turn of the thread's loop). */
  | { t: "progress"; seq: number }
  /** Another node appended: this one no longer leads. */
  | { t: "fenced"; by: string }
  /** The thread cannot go on (it could not connect, or failed). */
  | { t: "failed"; message: string }
  | { t: "stopped"; seq: number };

export type ToReplicator =
  /** Stop once the stream holds what the WAL accepted, or after `drainMs`. */
  { t: "stop"; drainMs: number };
