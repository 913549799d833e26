/**
 * Messages between the main thread and the socket workers (`postMessage`). Frames never travel this way:
 * to subscribers they go through the broadcast ring, from publishers through each worker's ingest ring
 * (answered in place, acked by the durable seq in shared state). These carry HTTP questions the main thread
 * answers, and control.
 */
import type { AuthKeys } from "../auth/keys.js";
import type { AckAfter, FeedLimits, SlowConsumerPolicy } from "../config/options.js";
import type { ErrorCode } from "../errors.js";
import type { TransportName } from "../transport/transport.js";

/**
 * Why the writer refuses ingest for now, as publishers are told: a follower's `READ_ONLY` names its
 * leader. The sequencer's answer in the ingest ring carries only the code; workers take the words from here.
 */
export interface IngestRefusal {
  code: ErrorCode;
  message: string;
}

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
  /** This worker's ingest ring to the sequencer (a fresh one per incarnation). */
  ingestRing: SharedArrayBuffer;
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
  /** The keys tokens are verified with; undefined = auth off. */
  auth: AuthKeys | undefined;
  /** Serving beyond loopback without auth (`--insecure`): /healthz says so. */
  insecure: boolean;
  allowedOrigins: string[] | undefined;
  /** Open connections per token subject over all workers (a `SharedCounts` table), for `max_connections`. */
  connectionsPerSub: SharedArrayBuffer;
  logLevel: string;
  /** The transport every worker runs (src/transport/select.ts chose it on the main thread). */
  transport: TransportName;
  /** Connections per client IP over all workers (a `SharedCounts` table). */
  connectionsPerIp: SharedArrayBuffer;
  maxConnectionsPerIp: number;
  limits: FeedLimits;
  /** This worker's share of the daemon's last-value, conflation and send-buffer budgets, bytes. */
  lastValueBytes: number;
  conflateBytes: number;
  sendBufferBytes: number;
  /** When publishers are acked: at the durable seq, or (a replicating leader) at min(durable, replicated). */
  ackAfter: AckAfter;
  /** Why ingest is refused at the worker's start, if it is (see {@link IngestRefusal}). */
  ingestRefusal: IngestRefusal | undefined;
}

export type ToMain =
  /** Listening on `port` (the real port when 0 was asked). */
  | { t: "listening"; port: number }
  | { t: "listen-failed"; message: string }
  /** An HTTP request the main thread answers (metrics, stats, admin). */
  | { t: "http"; id: number; path: string; method: string; body: string }
  /** The worker closed its clients: replies to it can no longer be delivered. */
  | { t: "closed" }
  /** The worker failed and is ending after closing its clients; the pool replaces it. */
  | { t: "failed"; message: string };

export type ToWorker =
  | { t: "http-reply"; id: number; status: number; contentType: string; body: string }
  /** The auth keys were re-read (SIGHUP): tokens are verified with these from now on. */
  | { t: "auth-keys"; keys: AuthKeys }
  | { t: "shutdown" }
  /** The writer refuses ingest from now on for this reason, or (undefined) takes it again. */
  | { t: "ingest-refusal"; refusal: IngestRefusal | undefined };
