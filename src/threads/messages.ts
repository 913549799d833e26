/**
 * Messages between the main thread and the subscriber workers (`postMessage`). Frames never travel
 * this way to subscribers — they go through the ring; these carry ingest hand-offs, acks and control.
 */

/** What the main thread hands a worker at start. */
export interface WorkerInit {
  index: number;
  /** The data directory: workers read the WAL (`wal/`) and the store (`store/`) for history. */
  data: string;
  /** The main thread's clock offset (see clock.ts), so ts_recv and delayed release share one clock. */
  clockOffsetNs: bigint;
  ring: SharedArrayBuffer;
  shared: Float64Array;
  host: string;
  port: number;
  maxMessageBytes: number;
  ingestRate: number;
  backpressureBytes: number;
  slowConsumer: "drop" | "conflate" | "disconnect";
  heartbeatMs: number;
  delayMs: number;
  adminToken: string | undefined;
}

export type ToMain =
  /** Listening on `port` (the real port when 0 was asked). */
  | { t: "listening"; port: number }
  | { t: "listen-failed"; message: string }
  /** A publisher message, decoded and encoded at the edge (seq and ts_recv still to stamp). */
  | { t: "ingest"; conn: number; frames: ArrayBuffer; count: number }
  /** An HTTP request the main thread answers (metrics, stats, admin). */
  | { t: "http"; id: number; path: string; method: string; body: string }
  | { t: "closed" };

export type ToWorker =
  /** Durable acks: [connection id, seq] pairs. */
  | { t: "acks"; pairs: number[] }
  | { t: "http-reply"; id: number; status: number; contentType: string; body: string }
  | { t: "shutdown" };
