/**
 * Messages between the main thread and the socket workers (`postMessage`). Frames never travel this way to
 * subscribers — they go through the ring; these carry ingest hand-offs, their replies, HTTP questions the
 * main thread answers, and control.
 */
import type { SlowConsumerPolicy } from "../config/options.js";
import type { ErrorBody } from "../errors.js";
import type { TransportName } from "../transport/transport.js";

/** What the main thread hands a worker at start. */
export interface WorkerInit {
  index: number;
  /** This incarnation's connection ids start after it (unique across restarts of worker `index`). */
  connIdBase: number;
  /** Where history lives: the WAL and store directories of the data directory. */
  dataDir: { wal: string; store: string };
  /** The main thread's clock offset (see clock.ts), so ts_recv and delayed release share one clock. */
  clockOffsetNs: bigint;
  ring: SharedArrayBuffer;
  shared: Float64Array;
  host: string;
  port: number;
  maxMessageBytes: number;
  ingestRate: number;
  backpressureBytes: number;
  slowConsumer: SlowConsumerPolicy;
  heartbeatMs: number;
  delayMs: number;
  adminToken: string | undefined;
  logLevel: string;
  /** The transport every worker runs (src/transport/select.ts chose it on the main thread). */
  transport: TransportName;
}

export type ToMain =
  /** Listening on `port` (the real port when 0 was asked). */
  | { t: "listening"; port: number }
  | { t: "listen-failed"; message: string }
  /** A publisher message, decoded and encoded at the edge (seq and ts_recv still to stamp). */
  | { t: "ingest"; conn: number; frames: ArrayBuffer; count: number }
  /** An HTTP request the main thread answers (metrics, stats, admin). */
  | { t: "http"; id: number; path: string; method: string; body: string }
  /** The worker closed its clients: replies to it can no longer be delivered. */
  | { t: "closed" }
  /** The worker failed and is ending after closing its clients; the pool replaces it. */
  | { t: "failed"; message: string };

export type ToWorker =
  /** Durable acks: [connection id, seq] pairs, each answering that connection's oldest message in flight. */
  | { t: "acks"; pairs: number[] }
  /** The sequencer refused that connection's oldest message in flight. */
  | { t: "rejected"; conn: number; error: ErrorBody }
  | { t: "http-reply"; id: number; status: number; contentType: string; body: string }
  | { t: "shutdown" };
