/**
 * The daemon: wires ingest → sequencer → WAL → ring → subscriber workers, and owns their lifecycle.
 * Also the embedding API: `const t = await Tickring.start({ data, port: 0 }); await t.ingest(ticks)`.
 */
import { createServer } from "node:net";
import { Worker } from "node:worker_threads";
import { clockOffsetNs } from "../clock.js";
import { resolveServeOptions, type ServeOptions } from "../config/options.js";
import { TickringError } from "../errors.js";
import type { Tick } from "../frame/codec.js";
import { DemoFeed } from "../publisher/demo-feed.js";
import { RingWriter } from "../publisher/ring-writer.js";
import { Sequencer } from "../publisher/sequencer.js";
import { IndexProgress, OnlineSnapshots, RecoveryStatusServer, recoverDataDir } from "../recovery/index.js";
import {
  applyRetention,
  type DataDir,
  Indexer,
  openDataDir,
  type Store,
  type Wal,
} from "../storage/index.js";
import { createLogger, type Logger } from "./logger.js";
import type { ToMain, ToWorker, WorkerInit } from "./messages.js";
import { Metrics } from "./metrics.js";
import {
  allocateSharedState,
  STATE_READY,
  STATE_STOPPING,
  STATUS_DURABLE_SEQ,
  STATUS_RECOVERY_PERCENT,
  STATUS_STATE,
  STATUS_WRITTEN_SEQ,
} from "./shared-state.js";

const WORKER_URL = new URL("../subscriber/worker.js", import.meta.url);
const SHUTDOWN_TIMEOUT_MS = 5000;
const RETENTION_EVERY_MS = 60_000;

/** A publisher message waiting for its seqs to be durable: who to ack, and up to which seq. */
interface PendingAck {
  worker: number;
  conn: number;
  seq: number;
}

export class Tickring {
  /** The port the feeds, ingest and HTTP listen on (the real one when 0 was asked). */
  port = 0;
  private readonly workers: Worker[] = [];
  /** Workers that said they closed their clients (their acks can no longer be delivered). */
  private readonly closedWorkers = new Set<number>();
  private readonly exitedWorkers = new Set<number>();
  private readonly pendingAcks: PendingAck[] = [];
  private ackHead = 0;
  private readonly localWaiters: { seq: number; resolve: () => void }[] = [];
  private readonly metrics: Metrics;
  private demo: DemoFeed | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private ingestedTicks = 0;
  private closing: Promise<void> | undefined;
  private indexProgress!: IndexProgress;
  private snapshots!: OnlineSnapshots;
  private dataDir!: DataDir;

  private constructor(
    readonly options: ServeOptions,
    readonly log: Logger,
    private readonly wal: Wal,
    private readonly ring: RingWriter,
    private readonly sequencer: Sequencer,
    private readonly shared: Float64Array,
    private readonly store: Store,
    private readonly indexer: Indexer,
  ) {
    this.metrics = new Metrics({
      shared,
      workers: options.workers,
      lastSeq: () => sequencer.lastSeq,
      writtenSeq: () => wal.writtenSeq,
      ringPosition: () => ring.position(),
      ringCapacity: ring.capacity,
      ingestTicks: () => this.ingestedTicks,
      walSegments: () => wal.segments().length,
      indexedSeq: () => indexer.indexedSeq,
      indexing: () => this.indexProgress.stats(),
    });
  }

  /**
   * Opens the data directory, recovers the WAL, starts the workers and (if asked) the demo feed.
   * `options` go through the same validation as the CLI's.
   */
  static async start(options: Partial<ServeOptions> = {}, log?: Logger): Promise<Tickring> {
    const opts = resolveServeOptions(options);
    const logger = log ?? createLogger(opts.logLevel);
    const dataDir = await openDataDir(opts.data);
    // The WAL opens before the metrics exist; its fsync samples reach them through this slot.
    const metricsSlot: { metrics?: Metrics } = {};
    const shared = allocateSharedState(opts.workers);
    // Until the workers listen, the port answers /healthz 503 with the recovery's progress.
    const status = await RecoveryStatusServer.listen(
      opts.host,
      opts.port,
      () => shared[STATUS_RECOVERY_PERCENT],
    ).catch((err) => {
      dataDir.release();
      throw err;
    });
    logger.info({ host: opts.host, port: status.port, data: opts.data }, "recovering");
    const { wal, store, report } = await recoverDataDir({
      data: opts.data,
      wal: {
        fsync: opts.fsync,
        batchMs: opts.fsyncBatchMs,
        segmentBytes: opts.walSegmentBytes,
        onFsync: (ns) => metricsSlot.metrics?.fsyncSeconds.observe(ns / 1e9),
      },
      log: logger,
      onProgress: (percent) => {
        shared[STATUS_RECOVERY_PERCENT] = percent;
      },
    }).catch(async (err) => {
      await status.close();
      dataDir.release();
      throw err;
    });
    // Only durable seqs are indexed, so the store is never ahead of what a crash leaves in the WAL.
    // Indexing catches up in the background while the daemon serves.
    const indexer = new Indexer(store, {
      walDir: dataDir.walDir,
      limitSeq: () => wal.durableSeq,
      onError: (err) => logger.error({ err }, "indexer stopped"),
    });
    indexer.start();
    const ring = RingWriter.allocate(opts.ringBytes);
    const sequencer = new Sequencer(wal, ring, report.lastSeq);
    shared[STATUS_DURABLE_SEQ] = wal.durableSeq;
    shared[STATUS_WRITTEN_SEQ] = wal.writtenSeq;
    // The workers take over the port the status server holds (the real one when 0 was asked).
    const t = new Tickring(
      { ...opts, port: status.port },
      logger,
      wal,
      ring,
      sequencer,
      shared,
      store,
      indexer,
    );
    t.dataDir = dataDir;
    t.indexProgress = new IndexProgress({
      indexedSeq: () => indexer.indexedSeq,
      targetSeq: () => wal.durableSeq,
      log: logger,
    });
    t.indexProgress.start();
    t.snapshots = new OnlineSnapshots({
      data: opts.data,
      wal,
      log: logger,
      everyMs: opts.snapshotEveryMs,
      keep: opts.snapshotKeep,
    });
    metricsSlot.metrics = t.metrics;
    wal.onDurable((seq) => t.onDurable(seq));
    await status.close();
    try {
      await t.startWorkers();
    } catch (err) {
      await t.close();
      throw err;
    }
    shared[STATUS_STATE] = STATE_READY;
    t.scheduleRetention();
    t.snapshots.start();
    if (opts.demo !== false) {
      t.demo = new DemoFeed(opts.demo, (ticks) => {
        t.sequence(ticks);
      });
      t.demo.start();
    }
    logger.info(
      {
        host: opts.host,
        port: t.port,
        workers: opts.workers,
        data: opts.data,
        seq: report.lastSeq,
        demo: opts.demo,
      },
      "tickring serving",
    );
    return t;
  }

  /** Highest seq assigned. */
  get lastSeq(): number {
    return this.sequencer.lastSeq;
  }

  /** Highest seq durable under the fsync policy. */
  get durableSeq(): number {
    return this.wal.durableSeq;
  }

  /** Sequences ticks from this process; resolves with the last seq once it is durable. */
  ingest(ticks: readonly Tick[]): Promise<number> {
    if (this.closing !== undefined)
      return Promise.reject(new TickringError("NOT_READY", "tickring is closing"));
    const seq = this.sequence(ticks);
    if (seq <= this.wal.durableSeq) return Promise.resolve(seq);
    return new Promise((resolve) => this.localWaiters.push({ seq, resolve: () => resolve(seq) }));
  }

  /** Readings of `/v1/stats`. */
  stats(): Record<string, unknown> {
    return this.metrics.json();
  }

  /**
   * Stops the demo feed and the workers (clients get a 1001 close frame), makes everything appended
   * durable, and closes the WAL. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private sequence(ticks: readonly Tick[]): number {
    const seq = this.sequencer.appendTicks(ticks);
    this.ingestedTicks += ticks.length;
    this.commit();
    return seq;
  }

  private commit(): void {
    this.sequencer.commit();
    this.shared[STATUS_WRITTEN_SEQ] = this.wal.writtenSeq;
  }

  private async shutdown(): Promise<void> {
    this.shared[STATUS_STATE] = STATE_STOPPING;
    this.demo?.stop();
    await this.wal.flush();
    await this.stopWorkers();
    // Ingest that was in flight from a worker while it shut down is sequenced by now: make it durable too.
    await this.wal.flush();
    clearInterval(this.retentionTimer);
    // A snapshot in progress reads the WAL and the store: let it finish before they close.
    await this.snapshots.stop();
    this.indexProgress.stop();
    await this.indexer.stop();
    await this.wal.close();
    await this.store.close();
    this.dataDir.release();
    this.log.info({ seq: this.sequencer.lastSeq }, "tickring stopped");
  }

  /** Applies the retention limits now and then; a WAL segment goes only once the store holds it. */
  private scheduleRetention(): void {
    const o = this.options;
    const limits = {
      walMaxAgeMs: o.retainWalMs,
      walMaxBytes: o.retainWalBytes,
      storeMaxAgeMs: o.retainStoreMs,
      storeMaxBytes: o.retainStoreBytes,
    };
    if (Object.values(limits).every((v) => v === undefined)) return;
    this.retentionTimer = setInterval(() => {
      applyRetention(this.wal, this.store, limits).then(
        (report) => {
          if (report.walSegmentsRemoved.length > 0 || report.storeSeqBlocksRemoved > 0)
            this.log.info({ report }, "retention");
        },
        (err) => this.log.error({ err }, "retention failed"),
      );
    }, RETENTION_EVERY_MS);
    this.retentionTimer.unref();
  }

  private onDurable(seq: number): void {
    this.shared[STATUS_DURABLE_SEQ] = seq;
    const perWorker: number[][] = [];
    const q = this.pendingAcks;
    while (this.ackHead < q.length && q[this.ackHead].seq <= seq) {
      const a = q[this.ackHead++];
      (perWorker[a.worker] ??= []).push(a.conn, a.seq);
    }
    if (this.ackHead > 1024 && this.ackHead * 2 > q.length) {
      q.splice(0, this.ackHead);
      this.ackHead = 0;
    }
    perWorker.forEach((pairs, w) => {
      if (!this.closedWorkers.has(w)) this.post(w, { t: "acks", pairs });
    });
    while (this.localWaiters.length > 0 && this.localWaiters[0].seq <= seq)
      this.localWaiters.shift()!.resolve();
  }

  private onWorkerMessage(w: number, msg: ToMain): void {
    switch (msg.t) {
      case "ingest": {
        const seq = this.sequencer.appendEncoded(new Uint8Array(msg.frames), msg.count);
        this.ingestedTicks += msg.count;
        this.commit();
        if (seq <= this.wal.durableSeq) this.post(w, { t: "acks", pairs: [msg.conn, seq] });
        else this.pendingAcks.push({ worker: w, conn: msg.conn, seq });
        return;
      }
      case "http":
        this.answerHttp(w, msg.id, msg.method, msg.path).catch((err) => {
          this.log.error({ err }, "HTTP request failed");
          this.post(w, {
            t: "http-reply",
            id: msg.id,
            status: 500,
            contentType: "application/json",
            body: "{}",
          });
        });
        return;
      default:
        return;
    }
  }

  private async answerHttp(w: number, id: number, method: string, path: string): Promise<void> {
    let status = 200;
    let contentType = "application/json";
    let body: string;
    if (method === "GET" && path === "/metrics") {
      contentType = this.metrics.registry.contentType;
      body = await this.metrics.text();
    } else if (method === "GET" && path === "/v1/stats") {
      body = JSON.stringify(this.stats());
    } else if (method === "POST" && path === "/v1/admin/snapshot") {
      ({ status, body } = await this.snapshotRequest());
    } else {
      status = 501;
      body = JSON.stringify({
        op: "error",
        code: "UNSUPPORTED",
        message: `${method} ${path} is not available yet`,
      });
    }
    this.post(w, { t: "http-reply", id, status, contentType, body });
  }

  /** `POST /v1/admin/snapshot`: an online snapshot into `<data>/snapshots/`, answered with its id, seq and path. */
  private async snapshotRequest(): Promise<{ status: number; body: string }> {
    if (this.closing !== undefined) {
      return {
        status: 503,
        body: JSON.stringify({ op: "error", code: "NOT_READY", message: "tickring is closing" }),
      };
    }
    try {
      const { id, seq, path } = await this.snapshots.take();
      return { status: 200, body: JSON.stringify({ id, seq, path }) };
    } catch (err) {
      this.log.error({ err }, "snapshot failed");
      const code = (err as { code?: string }).code ?? "INTERNAL";
      return { status: 500, body: JSON.stringify({ op: "error", code, message: (err as Error).message }) };
    }
  }

  private post(w: number, msg: ToWorker): void {
    this.workers[w].postMessage(msg);
  }

  /**
   * Starts the workers on one port. Linux will not share a kernel-chosen (port 0) port through
   * SO_REUSEPORT, so for port 0 we take a free port first and give every worker that one.
   */
  private async startWorkers(): Promise<void> {
    const o = this.options;
    this.port = await probePort(o.host, o.port);
    await Promise.all(Array.from({ length: o.workers }, (_, w) => this.startWorker(w, this.port)));
  }

  private startWorker(index: number, port: number): Promise<number> {
    const o = this.options;
    const init: WorkerInit = {
      index,
      data: o.data,
      clockOffsetNs: clockOffsetNs(),
      ring: this.ring.buffer,
      shared: this.shared,
      host: o.host,
      port,
      maxMessageBytes: o.maxMessageBytes,
      ingestRate: o.ingestRate,
      backpressureBytes: o.backpressureBytes,
      slowConsumer: o.slowConsumer,
      heartbeatMs: o.heartbeatMs,
      delayMs: o.delayMs,
      adminToken: o.adminToken,
    };
    const worker = new Worker(WORKER_URL, { workerData: init, name: `tickring-worker-${index}` });
    this.workers[index] = worker;
    return new Promise((resolve, reject) => {
      worker.on("message", (msg: ToMain) => {
        if (msg.t === "listening") resolve(msg.port);
        else if (msg.t === "listen-failed") reject(new TickringError("BAD_OPTION", msg.message));
        else if (msg.t === "closed") this.closedWorkers.add(index);
        else this.onWorkerMessage(index, msg);
      });
      worker.on("error", (err) => {
        this.log.error({ err, worker: index }, "subscriber worker failed");
        reject(err);
      });
      worker.on("exit", (code) => {
        this.closedWorkers.add(index);
        this.exitedWorkers.add(index);
        if (code !== 0 && this.closing === undefined)
          this.log.error({ worker: index, code }, "subscriber worker exited");
      });
    });
  }

  /** Asks each worker to close its clients and end; one that does not end in time is terminated. */
  private async stopWorkers(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (worker, w) =>
          new Promise<void>((resolve) => {
            if (this.exitedWorkers.has(w)) {
              resolve();
              return;
            }
            const timer = setTimeout(() => {
              this.log.warn({ worker: w }, "worker did not stop in time: terminating it");
              worker.terminate();
            }, SHUTDOWN_TIMEOUT_MS);
            worker.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
            this.post(w, { t: "shutdown" });
          }),
      ),
    );
  }
}

/**
 * Binds `port` (0 = any free one) without SO_REUSEPORT and returns it. The workers listen with
 * SO_REUSEPORT, which would let a second daemon share our port silently and take half the connections;
 * this plain bind fails first if anyone holds the port.
 */
function probePort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) =>
      reject(new TickringError("BAD_OPTION", `--port ${port}: cannot bind ${host}:${port} (${err.code})`)),
    );
    probe.listen({ host, port, exclusive: true }, () => {
      const bound = (probe.address() as { port: number }).port;
      probe.close(() => resolve(bound));
    });
  });
}
