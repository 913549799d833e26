/**
 * The composition root: opens the data directory, recovers it, and wires ingest → sequencer → WAL → ring →
 * socket workers, with the indexer, retention, snapshots, metrics and the demo feed beside them; then stops
 * them in the reverse order. The embedding API ({@link Tickring}) is a thin facade over it.
 */
import { hostname } from "node:os";
import { type AuthKeys, readAuthKeys } from "../auth/keys.js";
import { clockOffsetNs } from "../clock.js";
import { authOn, feedLimitsOf, isLoopbackHost, type ServeOptions } from "../config/options.js";
import { formatDuration } from "../config/duration.js";
import type { IncidentLogger, TickringError } from "../errors.js";
import { frameTsRecvApprox } from "../frame/codec.js";
import type { Logger } from "../logger.js";
import { barOptionsOf } from "../publisher/bars/bar-emitter.js";
import { DemoFeed } from "../publisher/demo-feed.js";
import { Sequencer } from "../publisher/sequencer.js";
import {
  cutReplicaTail,
  IndexProgress,
  OnlineSnapshots,
  type Recovered,
  recoverDataDir,
} from "../recovery/index.js";
import { Replication, replicationOf } from "../replication/replication.js";
import { RecoveryStatusServer } from "./status-server.js";
import { RingWriter } from "../ring/writer.js";
import {
  type AckedSeqFile,
  type DataDir,
  freeBytes,
  openDataDir,
  openWalReader,
  type RetentionOptions,
  type Store,
  type Wal,
} from "../storage/index.js";
import type { IngestRefusal, ToMain } from "../threads/messages.js";
import { SharedCounts } from "../threads/shared-counts.js";
import {
  allocateSharedState,
  STATE_READY,
  STATE_STOPPING,
  STATUS_DURABLE_SEQ,
  STATUS_RECOVERY_PERCENT,
  STATUS_STATE,
  STATUS_WRITTEN_SEQ,
} from "../threads/shared-state.js";
import { IndexerThread } from "../indexing/indexer-thread.js";
import { AckQueue } from "./ack-queue.js";
import { type TransportSelection, selectTransport } from "../transport/select.js";
import { IngestPump } from "./ingest-pump.js";
import { AdminHttp } from "./admin-http.js";
import { BarThread } from "./bar-thread.js";
import { Metrics } from "./metrics.js";
import { logTransport, readyFields } from "./ready-line.js";
import { refusalOf, replicationHost } from "./replication-host.js";
import { startRetention } from "./retention-timer.js";
import { WorkerPool } from "./worker-pool.js";
import { Writer } from "./writer.js";

/** A running daemon's parts. */
export class Daemon {
  private demo: DemoFeed | undefined;
  private stopRetention: () => void = () => {};
  private stopping = false;
  private replication: Replication | undefined;
  /**
   * Called when the daemon must start again on its data directory: a replication node that stepped down
   * holding seqs the stream does not (the join on the next start cuts them). The owner stops this daemon
   * and starts another; without an owner the daemon only logs it.
   */
  onRestart: ((reason: string) => void) | undefined;

  private constructor(
    readonly options: ServeOptions,
    readonly log: Logger,
    readonly wal: Wal,
    private readonly store: Store,
    private readonly indexer: IndexerThread,
    private readonly indexProgress: IndexProgress,
    private readonly snapshots: OnlineSnapshots,
    readonly sequencer: Sequencer,
    readonly writer: Writer,
    private readonly ingest: IngestPump,
    readonly metrics: Metrics,
    readonly pool: WorkerPool,
    private readonly shared: Float64Array,
    private readonly dataDir: DataDir,
    private readonly acked: AckedSeqFile,
    /** The keys tokens are verified with (replaced on SIGHUP); undefined = auth off. */
    private readonly auth: { keys: AuthKeys | undefined },
  ) {}

  /** Recovers the data directory and starts serving; see the module doc. */
  static async start(given: ServeOptions, log: Logger): Promise<Daemon> {
    const transport = selectTransport(given.transport, given.workers);
    const opts = { ...given, workers: transport.workers };
    // Unusable key files fail the start before anything is opened.
    const { keys, warnings } = readAuthKeys(opts);
    for (const w of warnings) log.warn(w);
    // Created and locked before anything reads it: a second daemon's WAL open would cut the first's tail.
    const dataDir = await openDataDir(opts.data);
    try {
      return await Daemon.compose(opts, log, dataDir, { keys }, transport);
    } catch (err) {
      dataDir.release();
      throw err;
    }
  }

  private static async compose(
    opts: ServeOptions,
    log: Logger,
    dataDir: DataDir,
    auth: { keys: AuthKeys | undefined },
    transport: TransportSelection,
  ): Promise<Daemon> {
    const { walDir, storeDir } = dataDir;
    // The WAL opens before the metrics exist; its fsync samples reach them through this slot.
    const metricsSlot: { metrics?: Metrics } = {};
    const shared = allocateSharedState(opts.workers);
    // Until the workers listen, the port answers /healthz 503 with the recovery's progress.
    const status = await RecoveryStatusServer.listen(
      opts.host,
      opts.port,
      () => shared[STATUS_RECOVERY_PERCENT],
    );
    log.info({ host: opts.host, port: status.port, data: opts.data }, "recovering");
    const recover = () =>
      recoverDataDir({
        data: opts.data,
        wal: {
          fsync: opts.fsync,
          batchMs: opts.fsyncBatchMs,
          segmentBytes: opts.walSegmentBytes,
          onFsync: (ns) => metricsSlot.metrics?.observeFsync(ns / 1e9),
        },
        log,
        onProgress: (percent) => {
          shared[STATUS_RECOVERY_PERCENT] = percent;
        },
      });
    const { wal, store, report, acked, reserve, diskFull, replication } = await recover()
      .then((recovered) => joinReplication(opts, log, walDir, recovered, recover))
      .catch(async (err) => {
        await status.close();
        throw err;
      });
    shared[STATUS_DURABLE_SEQ] = wal.durableSeq;
    shared[STATUS_WRITTEN_SEQ] = wal.writtenSeq;
    // Only durable seqs are indexed, so the store is never ahead of what a crash leaves in the WAL. The
    // indexer runs on a thread of its own: this one only sequences.
    const indexer = await IndexerThread.start({ walDir, storeDir, shared }, log);
    const indexProgress = new IndexProgress({
      indexedSeq: () => indexer.indexedSeq,
      targetSeq: () => wal.durableSeq,
      log,
    });
    indexProgress.start();
    const ring = RingWriter.allocate(opts.ringBytes);
    const sequencer = new Sequencer(wal, ring, report.lastSeq);
    const incidents: IncidentLogger = (incident, err) => log.error({ err, incident }, "request failed");
    const slot: { pool?: WorkerPool; admin?: AdminHttp } = {};
    const writer = new Writer({
      sequencer,
      wal,
      walDir,
      resumeFreeBytes: Math.max(64 * 1024 * 1024, opts.walSegmentBytes),
      reserve,
      local: new AckQueue(),
      shared,
      log,
    });
    if (diskFull !== undefined) {
      log.error({ free: diskFull.freeBytes }, "the disk is full: serving read-only until it has room");
      writer.startFull();
    }
    // The highest acked seq, kept apart from the WAL's tail: a later start never hands out a seq at or below it.
    acked.follow(() => wal.durableSeq);
    // A node of a replication group takes ingest only once it leads.
    if (replication !== undefined) writer.refuseIngest(refusalOf("NOT_READY", undefined));
    // Why ingest is refused now, in the words publishers get (a worker started later is told at start).
    const refusal: { now: IngestRefusal | undefined } = { now: wordsOf(writer.failed) };
    const ingest = new IngestPump(writer);
    const snapshots = new OnlineSnapshots({
      data: opts.data,
      wal,
      log,
      everyMs: opts.snapshotEveryMs,
      keep: opts.snapshotKeep,
    });
    const metrics = new Metrics({
      shared,
      workers: opts.workers,
      lastSeq: () => sequencer.lastSeq,
      writtenSeq: () => wal.writtenSeq,
      ringPosition: () => ring.position(),
      ringCapacity: ring.capacity,
      ingestTicks: () => writer.ticks,
      walSegments: () => wal.segments().length,
      walBytes: () => wal.segments().reduce((sum, s) => sum + s.bytes, 0),
      indexedSeq: () => indexer.indexedSeq,
      indexing: () => indexProgress.stats(),
      workerFailures: () => slot.pool?.failures ?? 0,
      replication: () => replication?.stats(),
    });
    metricsSlot.metrics = metrics;
    const connectionsPerIp = SharedCounts.allocate();
    const connectionsPerSub = SharedCounts.allocate();
    const insecure = !authOn(opts) && !isLoopbackHost(opts.host);
    const pool = new WorkerPool({
      count: opts.workers,
      host: opts.host,
      port: status.port,
      log,
      init: (index, port, connIdBase) => ({
        index,
        connIdBase,
        ingestRing: ingest.ringFor(index),
        dataDir: { wal: walDir, store: storeDir },
        clockOffsetNs: clockOffsetNs(),
        ring: ring.buffer,
        shared,
        host: opts.host,
        port,
        maxMessageBytes: opts.maxMessageBytes,
        ingestRate: opts.ingestRate,
        backpressureBytes: opts.backpressureBytes,
        slowConsumer: opts.slowConsumer,
        heartbeatMs: opts.heartbeatMs,
        delayMs: opts.delayMs,
        adminToken: opts.adminToken,
        auth: auth.keys,
        insecure,
        allowedOrigins: opts.allowedOrigins,
        connectionsPerSub,
        logLevel: opts.logLevel,
        transport: transport.name,
        connectionsPerIp,
        maxConnectionsPerIp: opts.maxConnectionsPerIp,
        limits: feedLimitsOf(opts),
        lastValueBytes: Math.floor(opts.lastValueBytes / opts.workers),
        conflateBytes: Math.floor(opts.conflateBytes / opts.workers),
        sendBufferBytes: Math.floor(opts.sendBufferBytes / opts.workers),
        ackAfter: replication === undefined ? "durable" : opts.ackAfter,
        ingestRefusal: refusal.now,
      }),
      onMessage: (w, msg) => d.onWorkerMessage(w, msg),
    });
    slot.pool = pool;
    writer.onRefusal((err) => {
      refusal.now = wordsOf(err);
      for (let w = 0; w < opts.workers; w++) pool.post(w, { t: "ingest-refusal", refusal: refusal.now });
    });
    const d = new Daemon(
      opts,
      log,
      wal,
      store,
      indexer,
      indexProgress,
      snapshots,
      sequencer,
      writer,
      ingest,
      metrics,
      pool,
      shared,
      dataDir,
      acked,
      auth,
    );
    slot.admin = new AdminHttp({
      metrics,
      stats: () => d.stats(),
      snapshots,
      closing: () => d.stopping,
      log: incidents,
    });
    d.admin = slot.admin;
    d.transport = transport;
    logTransport(log, transport);
    if (opts.barIntervalsMs.length > 0) {
      const where = { ring: ring.buffer, walDir, storeDir, shared };
      const bars = new BarThread(
        { ...barOptionsOf(opts), ...where },
        (ticks) => writer.sequenceTicks(ticks).catch(() => {}),
        log,
      );
      // A follower's bars are its leader's (they come through the ring); a writer refusing ingest for the disk
      // could not sequence them: the bars wait, within their window, until this node takes ingest again.
      writer.onRefusal((refusal) => bars.hold(refusal !== undefined));
      d.bars = bars;
    }
    // The workers take over the port the status server holds (the real one when 0 was asked).
    await status.close();
    try {
      await pool.start();
    } catch (err) {
      await d.stop();
      throw err;
    }
    shared[STATUS_STATE] = STATE_READY;
    if (replication !== undefined) {
      d.replication = replication;
      replication.start(
        replicationHost({
          walDir,
          shared,
          ring: ring.buffer,
          wal,
          sequencer,
          writer,
          url: `ws://${advertisedHost(opts.host)}:${pool.port}`,
          log,
          restart: (reason) => d.onRestart?.(reason),
        }),
      );
    }
    d.stopRetention = startRetention(
      wal,
      store,
      { ...retentionOf(opts), walKeepAfterSeq: () => replication?.walNeededAfter() ?? Infinity },
      log,
    );
    snapshots.start();
    if (opts.demo !== false) {
      d.demo = new DemoFeed(opts.demo, (ticks) => {
        writer.sequenceTicks(ticks).catch(() => {});
      });
      d.demo.start();
    }
    log.info(
      {
        ...readyFields(opts, pool.port, transport, describeRetention(opts), describeAuth(opts)),
        seq: report.lastSeq,
      },
      "tickring serving",
    );
    if (insecure) {
      log.warn(
        { host: opts.host, insecure: true },
        "serving beyond loopback WITHOUT authentication (--insecure): anyone who reaches the port may publish, subscribe and snapshot",
      );
    }
    return d;
  }

  private admin!: AdminHttp;
  /** The transport serving, and why (`/v1/stats` → `transport`). */
  transport!: TransportSelection;
  private bars: BarThread | undefined;

  /**
   * Re-reads the auth key files (SIGHUP) and hands the keys to every worker; connections keep their
   * tokens. A file that cannot be used is logged and the keys in force stay.
   */
  reloadAuthKeys(): void {
    if (this.auth.keys === undefined) return;
    try {
      const { keys, warnings } = readAuthKeys(this.options);
      for (const w of warnings) this.log.warn(w);
      this.auth.keys = keys;
      for (let w = 0; w < this.options.workers; w++) this.pool.post(w, { t: "auth-keys", keys: keys! });
      this.log.info({ auth: describeAuth(this.options) }, "auth keys re-read");
    } catch (err) {
      this.log.error({ err }, "auth keys not re-read: the keys in force stay");
    }
  }

  /**
   * `/v1/stats`: the metrics' readings, the WAL's recent fdatasync latency, the data directory's disk use and
   * free space, and the oldest seq and time history still holds. What the disk cannot say is null: the stats
   * of a node whose disk failed are what its operator needs most.
   */
  async stats(): Promise<Record<string, unknown>> {
    const orNull = <T>(what: string, read: () => Promise<T>): Promise<T | null> =>
      read().catch((err: unknown) => {
        this.log.warn({ err }, `${what} cannot be read`);
        return null;
      });
    const readings = this.metrics.json();
    const wal = readings.wal as { bytes: number };
    return {
      ...readings,
      wal: { ...wal, fsync: await this.metrics.fsyncRecentMs() },
      disk: await orNull("the data directory's disk use", async () => ({
        walBytes: wal.bytes,
        storeBytes: await this.store.approximateBytes(),
        freeBytes: freeBytes(this.options.data),
      })),
      history: await orNull("the oldest history held", () => this.oldestAvailable()),
      transport: this.transport,
    };
  }

  /**
   * Stops the demo feed and the workers (clients get a 1001 close frame), makes everything appended durable,
   * and closes the storage. Run once.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.shared[STATUS_STATE] = STATE_STOPPING;
    this.demo?.stop();
    await this.bars?.stop();
    await this.flush();
    await this.pool.stop();
    // Ingest the workers wrote before they stopped is sequenced now, and made durable with the rest.
    this.ingest.stop();
    await this.flush();
    // A leader lets the stream take what the WAL accepted, then hands its lease back.
    await this.replication?.stop();
    this.stopRetention();
    // A snapshot in progress reads the WAL and the store: let it finish before they close.
    await this.snapshots.stop();
    this.indexProgress.stop();
    await this.indexer.stop();
    this.writer.stop();
    await this.wal.close().catch((err) => this.log.error({ err }, "WAL close failed"));
    await this.acked.close().catch((err) => this.log.error({ err }, "acked mark close failed"));
    await this.store.close();
    this.dataDir.release();
    this.log.info({ seq: this.sequencer.lastSeq }, "tickring stopped");
  }

  /** Makes everything written durable (a WAL that fails meanwhile tells the writer itself). */
  private async flush(): Promise<void> {
    await this.wal.flush().catch((err) => this.log.error({ err }, "WAL flush failed"));
  }

  private onWorkerMessage(w: number, msg: ToMain): void {
    switch (msg.t) {
      case "http":
        this.admin
          .answer(msg.method, msg.path)
          .then((a) => this.pool.post(w, { t: "http-reply", id: msg.id, ...a }));
        return;
      default:
        return;
    }
  }

  /** The oldest seq still held (store or WAL) and its ts_recv as an ISO time; null when nothing is. */
  private async oldestAvailable(): Promise<{ oldestSeq: number; oldestTime: string } | null> {
    const storeFirst = this.store.checkpoint > 0 ? await this.store.firstSeq() : 0;
    if (storeFirst > 0) {
      const ts = await this.store.oldestTsApprox();
      if (ts !== null) return { oldestSeq: storeFirst, oldestTime: new Date(ts / 1e6).toISOString() };
    }
    const first = this.wal.segments()[0];
    if (first === undefined || first.lastSeq < first.firstSeq) return null;
    const reader = openWalReader(this.dataDir.walDir, first.firstSeq, { bufferBytes: 1 << 20 });
    try {
      const batch = reader.nextSync(first.firstSeq);
      if (batch === null) return null;
      const ts = frameTsRecvApprox(batch.bytes, batch.offsets[0]);
      return { oldestSeq: first.firstSeq, oldestTime: new Date(ts / 1e6).toISOString() };
    } finally {
      reader.close();
    }
  }
}

/**
 * Joins the replication group when `opts` asks for one (src/replication). When the WAL holds seqs the
 * stream does not — a former leader's tail — the data directory is cut there (WAL, store and acked mark:
 * {@link cutReplicaTail}) and recovered again, all before anything serves.
 */
async function joinReplication(
  opts: ServeOptions,
  log: Logger,
  walDir: string,
  recovered: Recovered,
  recover: () => Promise<Recovered>,
): Promise<Recovered & { replication?: Replication }> {
  const o = replicationOf(opts);
  if (o === undefined) return recovered;
  const { wal, store, report, acked } = recovered;
  const local = { walDir, firstSeq: wal.segments()[0]?.firstSeq ?? 1, lastSeq: report.lastSeq };
  let joined;
  try {
    joined = await Replication.join(o, log, local);
  } catch (err) {
    await wal.close();
    await store.close();
    await acked.close();
    throw err;
  }
  if (joined.cutAfter === undefined) return { ...recovered, replication: joined.replication };
  try {
    const cut = await cutReplicaTail(recovered, walDir, joined.cutAfter);
    log.warn(
      { after: joined.cutAfter, seqs: cut.seqs, bytes: cut.bytes },
      "WAL cut: those seqs never reached the stream, whose own take their place",
    );
    return { ...(await recover()), replication: joined.replication };
  } catch (err) {
    await joined.replication.stop();
    throw err;
  }
}

/** Why ingest is refused, as the workers tell publishers. */
function wordsOf(err: TickringError | undefined): IngestRefusal | undefined {
  return err === undefined ? undefined : { code: err.code, message: err.message };
}

/** The host a leader names in its lease: one publishers elsewhere can reach when it listens on every interface. */
function advertisedHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return hostname();
  return host.includes(":") ? `[${host}]` : host;
}

function retentionOf(o: ServeOptions): RetentionOptions {
  return {
    walMaxAgeMs: o.retainWalMs,
    walMaxBytes: o.retainWalBytes,
    storeMaxAgeMs: o.retainStoreMs,
    storeMaxBytes: o.retainStoreBytes,
  };
}

/** How tokens are verified, for the log. */
function describeAuth(o: ServeOptions): string {
  const parts: string[] = [];
  if (o.authSecretFile !== undefined) parts.push(`HS256 secret ${o.authSecretFile}`);
  if (o.authJwks !== undefined) parts.push(`public keys ${o.authJwks}`);
  return parts.length === 0 ? "off" : parts.join(", ");
}

/** The retention in force, for the start-up log: "keep everything" says so out loud. */
function describeRetention(o: ServeOptions): string {
  const parts: string[] = [];
  if (o.retainWalMs !== undefined) parts.push(`WAL ${formatDuration(o.retainWalMs)}`);
  if (o.retainWalBytes !== undefined) parts.push(`WAL ${o.retainWalBytes} bytes`);
  if (o.retainStoreMs !== undefined) parts.push(`store ${formatDuration(o.retainStoreMs)}`);
  if (o.retainStoreBytes !== undefined) parts.push(`store ${o.retainStoreBytes} bytes`);
  return parts.length === 0 ? "none: every tick is kept until the disk is full" : parts.join(", ");
}
