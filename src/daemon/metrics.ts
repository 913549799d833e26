/**
 * `/metrics` (Prometheus text) and `/v1/stats` (JSON) from one set of readings. Values are read when
 * scraped — from the sequencer, the WAL and the workers' shared counters — so nothing is counted twice
 * and the hot path only bumps plain numbers.
 */
import { Counter, Gauge, Histogram, Registry, Summary } from "prom-client";
import type { IndexingStats } from "../recovery/index.js";
import type { ReplicationStats } from "../replication/replication.js";
import {
  STATUS_DURABLE_SEQ,
  W,
  WORKER_FIELDS,
  type WorkerField,
  workerBase,
} from "../threads/shared-state.js";

/** What the metrics read from the daemon. */
export interface MetricsSource {
  shared: Float64Array;
  workers: number;
  lastSeq(): number;
  writtenSeq(): number;
  ringPosition(): number;
  ringCapacity: number;
  ingestTicks(): number;
  walSegments(): number;
  /** Bytes of every WAL segment. */
  walBytes(): number;
  indexedSeq(): number;
  /** The background indexer's progress (lag, rate, ETA). */
  indexing(): IndexingStats;
  /** Socket workers that failed while serving. */
  workerFailures(): number;
  /** Replication's figures, when the daemon is a node of a replication group. */
  replication(): ReplicationStats | undefined;
}

const WORKER_COUNTERS: Partial<Record<WorkerField, [string, string]>> = {
  framesSent: ["tickring_frames_sent_total", "Frames sent to subscribers"],
  bytesSent: ["tickring_bytes_sent_total", "Frame bytes sent to subscribers"],
  messagesSent: ["tickring_messages_sent_total", "WebSocket data messages sent to subscribers"],
  gaps: ["tickring_gaps_total", "gap messages sent to subscribers"],
  laps: ["tickring_ring_laps_total", "Times a worker was lapped by the ring writer"],
  caughtUp: ["tickring_ring_catchup_frames_total", "Frames a lapped worker re-read from the WAL"],
  ingestMessages: ["tickring_ingest_messages_total", "Ingest WebSocket messages accepted"],
  ingestRejected: ["tickring_ingest_rejected_total", "Ingest WebSocket messages rejected"],
  authRefused: ["tickring_auth_refused_total", "Authentications refused: no, bad or expired token"],
  authForbidden: [
    "tickring_auth_forbidden_total",
    "Requests of authenticated clients refused: a permission, an entitlement or a limit of the token",
  ],
  authExpired: ["tickring_auth_expired_total", "Connections closed at their token's expiry"],
  adminActions: ["tickring_admin_actions_total", "Requests to /v1/admin/*, answered or refused"],
};
const WORKER_GAUGES: Partial<Record<WorkerField, [string, string]>> = {
  connections: ["tickring_connections", "Open WebSocket connections"],
  subscriptions: ["tickring_subscriptions", "Active subscriptions"],
  ringPosition: ["tickring_worker_ring_position_bytes", "Ring read position of each worker (mod 2^32)"],
  ringLag: ["tickring_worker_ring_lag_bytes", "Bytes each worker is behind the ring writer"],
};
const POLICY_FIELDS: [WorkerField, string][] = [
  ["drops", "drop"],
  ["conflated", "conflate"],
  ["disconnects", "disconnect"],
];

export class Metrics {
  readonly registry = new Registry();
  private readonly fsyncSeconds: Histogram;
  /**
   * The same fdatasync latencies over the last minute, for the p50 and p99 of `/v1/stats` (what an operator
   * looking at the dashboard wants: now, not since start). Not in the registry: Prometheus has the histogram.
   */
  private readonly fsyncRecent = new Summary({
    name: "tickring_wal_fsync_recent_seconds",
    help: "WAL fdatasync latency over the last minute",
    percentiles: [0.5, 0.99],
    maxAgeSeconds: 60,
    ageBuckets: 6,
    registers: [],
  });
  private lastRate = { at: performance.now(), ticks: 0, perSec: 0 };

  constructor(private readonly src: MetricsSource) {
    const r = this.registry;
    const worker = (f: WorkerField, w: number) => src.shared[workerBase(w) + W[f]];
    gauge(r, "tickring_last_seq", "Highest seq assigned", () => src.lastSeq());
    gauge(r, "tickring_written_seq", "Highest seq written to the WAL (published to the ring)", () =>
      src.writtenSeq(),
    );
    gauge(
      r,
      "tickring_acked_seq",
      "Highest seq durable under the fsync policy (acked)",
      () => src.shared[STATUS_DURABLE_SEQ],
    );
    gauge(r, "tickring_indexed_seq", "Highest seq in the LevelDB store", () => src.indexedSeq());
    gauge(
      r,
      "tickring_index_lag",
      "Seqs durable in the WAL but not yet in the store",
      () => src.indexing().lag,
    );
    gauge(
      r,
      "tickring_index_rate",
      "Seqs indexed per second, over the last second",
      () => src.indexing().ratePerSec,
    );
    gauge(r, "tickring_ring_position_bytes", "Ring writer position (mod 2^32)", () => src.ringPosition());
    gauge(r, "tickring_ring_capacity_bytes", "Ring capacity", () => src.ringCapacity);
    gauge(r, "tickring_wal_segments", "WAL segment files", () => src.walSegments());
    gauge(r, "tickring_ingest_rate", "Ticks sequenced per second, over the last scrape interval", () =>
      this.rate(),
    );
    new Counter({
      name: "tickring_worker_failures_total",
      help: "Socket workers that failed while serving (their clients were disconnected)",
      registers: [r],
      collect() {
        this.reset();
        this.inc(src.workerFailures());
      },
    });
    new Counter({
      name: "tickring_ingest_ticks_total",
      help: "Ticks sequenced",
      registers: [r],
      collect() {
        this.reset();
        this.inc(src.ingestTicks());
      },
    });
    for (const [field, [name, help]] of Object.entries(WORKER_COUNTERS)) {
      new Counter({
        name,
        help,
        labelNames: ["worker"],
        registers: [r],
        collect() {
          this.reset();
          for (let w = 0; w < src.workers; w++) this.inc({ worker: w }, worker(field as WorkerField, w));
        },
      });
    }
    for (const [field, [name, help]] of Object.entries(WORKER_GAUGES)) {
      new Gauge({
        name,
        help,
        labelNames: ["worker"],
        registers: [r],
        collect() {
          for (let w = 0; w < src.workers; w++) this.set({ worker: w }, worker(field as WorkerField, w));
        },
      });
    }
    new Counter({
      name: "tickring_slow_consumer_total",
      help: "Slow-consumer actions: frames dropped (drop), frames conflated (conflate), clients disconnected (disconnect)",
      labelNames: ["worker", "policy"],
      registers: [r],
      collect() {
        this.reset();
        for (let w = 0; w < src.workers; w++) {
          for (const [field, policy] of POLICY_FIELDS) this.inc({ worker: w, policy }, worker(field, w));
        }
      },
    });
    if (src.replication() !== undefined) this.replicationGauges();
    this.fsyncSeconds = new Histogram({
      name: "tickring_wal_fsync_seconds",
      help: "WAL fdatasync latency",
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5],
      registers: [r],
    });
  }

  /** One WAL fdatasync took `seconds`. */
  observeFsync(seconds: number): void {
    this.fsyncSeconds.observe(seconds);
    this.fsyncRecent.observe(seconds);
  }

  /** p50 and p99 of the last minute's fdatasyncs in milliseconds (null without any), and the count since start. */
  async fsyncRecentMs(): Promise<{ p50Ms: number | null; p99Ms: number | null; count: number }> {
    const { values } = await this.fsyncRecent.get();
    const at = (q: number) => {
      const v = values.find((x) => x.labels.quantile === q)?.value;
      // An empty window reads 0 (prom-client's digest of nothing); no fdatasync takes 0 s.
      return v === undefined || !(v > 0) ? null : v * 1000;
    };
    const count = values.find((x) => x.metricName?.endsWith("_count"))?.value ?? 0;
    return { p50Ms: at(0.5), p99Ms: at(0.99), count };
  }

  /** Gauges of a node of a replication group (registered only on one). */
  private replicationGauges(): void {
    const read = (f: (s: ReplicationStats) => number) => () => {
      const stats = this.src.replication();
      return stats === undefined ? 0 : f(stats);
    };
    const r = this.registry;
    gauge(
      r,
      "tickring_replicated_seq",
      "A replicating leader: highest seq the stream acknowledged; a follower: highest seq applied from it",
      read((s) => s.replicatedSeq),
    );
    gauge(
      r,
      "tickring_replication_lag_seqs",
      "A leader: seqs accepted but not yet in the stream; a follower: seqs in the stream not yet applied",
      read((s) => s.lagSeqs),
    );
    gauge(
      r,
      "tickring_replication_lag_seconds",
      "A leader: age of the oldest seq not yet in the stream; a follower: ts_recv to applied, last frame",
      read((s) => s.lagMs / 1000),
    );
    gauge(
      r,
      "tickring_replication_leader",
      "1 while this node leads its replication group, else 0",
      read((s) => (s.role === "leader" ? 1 : 0)),
    );
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The same readings as JSON. */
  json(): Record<string, unknown> {
    const s = this.src;
    return {
      seq: {
        last: s.lastSeq(),
        written: s.writtenSeq(),
        durable: s.shared[STATUS_DURABLE_SEQ],
        indexed: s.indexedSeq(),
      },
      ingest: { ticks: s.ingestTicks(), ratePerSec: this.rate() },
      workerFailures: s.workerFailures(),
      ring: { capacity: s.ringCapacity, position: s.ringPosition() },
      wal: { segments: s.walSegments(), bytes: s.walBytes() },
      indexing: s.indexing(),
      ...(s.replication() === undefined ? {} : { replication: s.replication() }),
      workers: Array.from({ length: s.workers }, (_, w) =>
        Object.fromEntries(WORKER_FIELDS.map((f) => [f, s.shared[workerBase(w) + W[f]]])),
      ),
    };
  }

  private rate(): number {
    const now = performance.now();
    const ticks = this.src.ingestTicks();
    const dt = (now - this.lastRate.at) / 1000;
    if (dt >= 0.5) this.lastRate = { at: now, ticks, perSec: Math.round((ticks - this.lastRate.ticks) / dt) };
    return this.lastRate.perSec;
  }
}

function gauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}
