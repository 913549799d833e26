/**
 * The dashboard's data layer for `GET /v1/stats`: reads a payload (checking the figures it uses, so a
 * daemon of another version shows what it has rather than `undefined`), and turns two successive readings
 * into what the panels show — rates per second from the counters' deltas, totals over the workers, disk use,
 * the retention window. No DOM: tested in Node against payloads recorded from a real daemon
 * (test/dashboard/fixtures).
 */

/** One socket worker's counters, as `/v1/stats` has them (cumulative since the worker started). */
export interface WorkerCounters {
  connections: number;
  subscriptions: number;
  framesSent: number;
  bytesSent: number;
  drops: number;
  gaps: number;
  conflated: number;
  disconnects: number;
  ringLag: number;
  laps: number;
}

/** Replication figures (`--replicate`, `--follow`). */
export interface ReplicationReading {
  role: string;
  stream: string;
  node: string;
  leader: string | null;
  ackAfter: string;
  replicatedSeq: number;
  lagSeqs: number;
  lagMs: number;
}

/** What the dashboard reads of one `/v1/stats` payload. */
export interface StatsReading {
  seq: { last: number; written: number; durable: number; indexed: number };
  ingest: { ticks: number; ratePerSec: number };
  workerFailures: number;
  indexLag: number;
  wal: { segments: number; bytes: number | null; fsyncP50Ms: number | null; fsyncP99Ms: number | null };
  disk: { walBytes: number; storeBytes: number; freeBytes: number } | null;
  history: { oldestSeq: number; oldestTime: string } | null;
  replication: ReplicationReading | null;
  workers: WorkerCounters[];
}

/** One worker as the panels show it. */
export interface WorkerView {
  index: number;
  clients: number;
  subscriptions: number;
  ringLagBytes: number;
  /** Per second since the previous reading; null for the first reading or after the worker restarted. */
  framesPerSec: number | null;
  bytesPerSec: number | null;
  drops: number;
  conflated: number;
  disconnects: number;
  gaps: number;
}

/** Everything the stats panels show, from one reading and the one before it. */
export interface StatsView {
  /** Milliseconds since the epoch of the reading. */
  at: number;
  ingestPerSec: number;
  ackedSeq: number;
  lastSeq: number;
  indexedSeq: number;
  indexLag: number;
  clients: number;
  subscriptions: number;
  /** Over every worker whose rate is known; null when none is. */
  framesPerSec: number | null;
  bytesPerSec: number | null;
  workerFailures: number;
  workers: WorkerView[];
  wal: StatsReading["wal"];
  disk: { usedBytes: number; freeBytes: number } | null;
  /** The oldest seq history holds, its time and age at the reading. */
  retention: { oldestSeq: number; oldestTime: string; ageMs: number } | null;
  replication: ReplicationReading | null;
}

/** Reads a `/v1/stats` payload; throws naming the first figure missing or of the wrong type. */
export function readStats(payload: unknown): StatsReading {
  const p = obj(payload, "stats");
  const seq = obj(p.seq, "seq");
  const ingest = obj(p.ingest, "ingest");
  const wal = obj(p.wal, "wal");
  const fsync = isObj(wal.fsync) ? wal.fsync : undefined;
  const workers = p.workers;
  if (!Array.isArray(workers)) throw new Error("stats: workers is not an array");
  return {
    seq: {
      last: num(seq.last, "seq.last"),
      written: num(seq.written, "seq.written"),
      durable: num(seq.durable, "seq.durable"),
      indexed: num(seq.indexed, "seq.indexed"),
    },
    ingest: {
      ticks: num(ingest.ticks, "ingest.ticks"),
      ratePerSec: num(ingest.ratePerSec, "ingest.ratePerSec"),
    },
    workerFailures: optNum(p.workerFailures) ?? 0,
    indexLag: isObj(p.indexing) ? (optNum(p.indexing.lag) ?? 0) : 0,
    wal: {
      segments: num(wal.segments, "wal.segments"),
      bytes: optNum(wal.bytes),
      fsyncP50Ms: fsync === undefined ? null : optNum(fsync.p50Ms),
      fsyncP99Ms: fsync === undefined ? null : optNum(fsync.p99Ms),
    },
    disk: isObj(p.disk)
      ? {
          walBytes: num(p.disk.walBytes, "disk.walBytes"),
          storeBytes: num(p.disk.storeBytes, "disk.storeBytes"),
          freeBytes: num(p.disk.freeBytes, "disk.freeBytes"),
        }
      : null,
    history: isObj(p.history)
      ? {
          oldestSeq: num(p.history.oldestSeq, "history.oldestSeq"),
          oldestTime: str(p.history.oldestTime, "history.oldestTime"),
        }
      : null,
    replication: isObj(p.replication) ? readReplication(p.replication) : null,
    workers: workers.map((w, i) => readWorker(w, `workers[${i}]`)),
  };
}

function readWorker(w: unknown, at: string): WorkerCounters {
  const o = obj(w, at);
  const n = (k: keyof WorkerCounters) => num(o[k], `${at}.${k}`);
  return {
    connections: n("connections"),
    subscriptions: n("subscriptions"),
    framesSent: n("framesSent"),
    bytesSent: n("bytesSent"),
    drops: n("drops"),
    gaps: n("gaps"),
    conflated: n("conflated"),
    disconnects: n("disconnects"),
    ringLag: n("ringLag"),
    laps: n("laps"),
  };
}

function readReplication(r: Record<string, unknown>): ReplicationReading {
  return {
    role: str(r.role, "replication.role"),
    stream: str(r.stream, "replication.stream"),
    node: str(r.node, "replication.node"),
    leader: typeof r.leader === "string" ? r.leader : null,
    ackAfter: str(r.ackAfter, "replication.ackAfter"),
    replicatedSeq: num(r.replicatedSeq, "replication.replicatedSeq"),
    lagSeqs: num(r.lagSeqs, "replication.lagSeqs"),
    lagMs: num(r.lagMs, "replication.lagMs"),
  };
}

/**
 * The panels' view of reading `cur` taken at `at` (ms since the epoch), with rates from `prev` (the reading
 * before, taken at `prevAt`), if any. A counter that went down means its worker was replaced (a failed
 * worker's counters start again): no rate for that interval rather than a negative one.
 */
export function statsView(
  cur: StatsReading,
  at: number,
  prev?: { reading: StatsReading; at: number },
): StatsView {
  const dt = prev === undefined ? 0 : (at - prev.at) / 1000;
  const rate = (now: number, before: number | undefined) =>
    dt > 0 && before !== undefined && now >= before ? (now - before) / dt : null;
  const workers = cur.workers.map((w, index): WorkerView => {
    const p = prev?.reading.workers[index];
    return {
      index,
      clients: w.connections,
      subscriptions: w.subscriptions,
      ringLagBytes: w.ringLag,
      framesPerSec: rate(w.framesSent, p?.framesSent),
      bytesPerSec: rate(w.bytesSent, p?.bytesSent),
      drops: w.drops,
      conflated: w.conflated,
      disconnects: w.disconnects,
      gaps: w.gaps,
    };
  });
  const oldest = cur.history === null ? NaN : Date.parse(cur.history.oldestTime);
  return {
    at,
    ingestPerSec: cur.ingest.ratePerSec,
    ackedSeq: cur.seq.durable,
    lastSeq: cur.seq.last,
    indexedSeq: cur.seq.indexed,
    indexLag: cur.indexLag,
    clients: sum(workers, (w) => w.clients),
    subscriptions: sum(workers, (w) => w.subscriptions),
    framesPerSec: sumKnown(workers, (w) => w.framesPerSec),
    bytesPerSec: sumKnown(workers, (w) => w.bytesPerSec),
    workerFailures: cur.workerFailures,
    workers,
    wal: cur.wal,
    disk:
      cur.disk === null
        ? null
        : { usedBytes: cur.disk.walBytes + cur.disk.storeBytes, freeBytes: cur.disk.freeBytes },
    retention:
      cur.history === null || Number.isNaN(oldest)
        ? null
        : { ...cur.history, ageMs: Math.max(0, at - oldest) },
    replication: cur.replication,
  };
}

function sum<T>(items: T[], f: (t: T) => number): number {
  let s = 0;
  for (const t of items) s += f(t);
  return s;
}

function sumKnown<T>(items: T[], f: (t: T) => number | null): number | null {
  let s: number | null = null;
  for (const t of items) {
    const v = f(t);
    if (v !== null) s = (s ?? 0) + v;
  }
  return s;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function obj(v: unknown, at: string): Record<string, unknown> {
  if (!isObj(v)) throw new Error(`stats: ${at} is not an object`);
  return v;
}

function num(v: unknown, at: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`stats: ${at} is not a number`);
  return v;
}

function optNum(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function str(v: unknown, at: string): string {
  if (typeof v !== "string") throw new Error(`stats: ${at} is not a string`);
  return v;
}
