/**
 * One socket worker: a uWS (or ws) app on the shared port (SO_REUSEPORT; the kernel spreads connections over the
 * workers), composing the ingest endpoint (publishers whose connection lands here are decoded and encoded
 * here, then handed to the sequencer) and the feeds (a ring pump with its own cursor, the real-time,
 * delayed and historical feeds). Its seams — the transport, the link to the main thread, the ring, the data
 * directory — are handed in, so the thread entry (worker.ts) only wires them.
 */
import { clearInterval, setInterval, setTimeout } from "node:timers";
import { isLoopbackHost } from "../config/options.js";
import { ERROR_CODES, type ErrorCode, type IncidentLogger, TickringError } from "../errors.js";
import { JsonRenderer } from "../frame/json-render.js";
import { IngestDecoder } from "../publisher/ingest/decoder.js";
import { IngestEndpoint, type IngestSession } from "../publisher/ingest/endpoint.js";
import { IngestRingProducer } from "../ring/ingest-producer.js";
import { RingReader } from "../ring/reader.js";
import { Store } from "../storage/index.js";
import { DelayedFeed } from "../subscriber/delayed-feed.js";
import { FeedEndpoint, type FeedSession } from "../subscriber/feed-endpoint.js";
import { Heartbeats } from "../subscriber/heartbeats.js";
import type { HistorySources } from "../subscriber/history.js";
import { HTTP_STALL_MS, HttpHistory } from "../subscriber/http-history.js";
import { type ByteBudget, LastValueCache } from "../subscriber/last-value-cache.js";
import { systemClock } from "../subscriber/feed-clock.js";
import { rebuildLastValues } from "../subscriber/last-value-rebuild.js";
import {
  type FeedCounters,
  finishPendingClose,
  newFeedCounters,
  RealtimeFeed,
  type SendLimit,
} from "../subscriber/realtime-feed.js";
import { ReplayScheduler } from "../subscriber/replay-scheduler.js";
import { MAX_RUN_BYTES, RingPump } from "../subscriber/ring-pump.js";
import { corkedSender } from "../subscriber/send.js";
import type { Logger } from "../logger.js";
import type { IngestRefusal, ToMain, ToWorker, WorkerInit } from "../threads/messages.js";
import { SharedCounts } from "../threads/shared-counts.js";
import {
  STATE_READY,
  STATUS_DURABLE_SEQ,
  STATUS_RECOVERY_PERCENT,
  STATUS_INGEST_REFUSED,
  STATUS_REPLICATED_SEQ,
  STATUS_STATE,
  STATUS_WRITER_FAILED,
  STATUS_WRITTEN_SEQ,
  W,
  workerBase,
} from "../threads/shared-state.js";
import type { Socket } from "../transport/socket.js";
import {
  type App,
  bytesText,
  type ListenToken,
  type Message,
  type Transport,
} from "../transport/transport.js";
import { AuthAudit, type AuthCounters } from "./auth-audit.js";
import { AuthGate, type GateConn } from "./auth-gate.js";
import { HttpProxy } from "./http-proxy.js";
import { createApp } from "./routes.js";
import { DASHBOARD_DIR, StaticFiles } from "./static-files.js";

/** How long clients get to answer our close frame at shutdown. */
const CLOSE_GRACE_MS = 1000;
/** Loop time given to sockets being closed before the thread may end. */
const SOCKET_CLOSE_MS = 100;
/**
 * Largest request on `/v1/feed`: room for a subscription to the default `--max-symbols` (10,000 symbols of
 * up to 64 bytes, quoted), so the symbol limit is reachable in one request.
 */
const FEED_MESSAGE_BYTES = 1024 * 1024;
/** The least a subscriber's socket may hold unsent, however many share the send buffer: one run. */
const MIN_SEND_LIMIT = 64 * 1024;
/** How often the worker's counters are copied to shared state. */
const STATS_EVERY_MS = 200;

/**
 * One client connection, either route's: the transport's user data, from its upgrade request on. Its
 * address counts against `--max-connections-per-ip` from the upgrade to the close.
 */
interface Conn extends FeedSession, IngestSession, GateConn {
  kind: "feed" | "ingest";
}

/** The seams a worker runs on. */
export interface EdgeWorkerSeams {
  init: WorkerInit;
  transport: Transport;
  /** Messages to the main thread (ingest hand-offs transfer their buffer). */
  post(msg: ToMain, transfer?: ArrayBuffer[]): void;
  /** Lets the thread end once its sockets are closed. */
  release(): void;
  log: Logger;
}

export class EdgeWorker {
  private readonly conns = new Map<number, Conn>();
  /** Connection ids are unique across the worker's incarnations, so a late ack never reaches a stranger. */
  private nextConnId: number;
  private readonly counters: FeedCounters = newFeedCounters();
  private readonly ingestCounters = { messages: 0, ticks: 0, rejected: 0 };
  private readonly authCounters: AuthCounters = { refused: 0, forbidden: 0, expired: 0, adminActions: 0 };
  private readonly gate: AuthGate;
  private readonly audit: AuthAudit;
  private readonly reader: RingReader;
  private readonly pump: RingPump;
  private readonly lvc: LastValueCache;
  private readonly connectionsPerIp: SharedCounts;
  private readonly realtime: RealtimeFeed;
  private readonly delayed: DelayedFeed;
  private readonly feeds: FeedEndpoint;
  private readonly ingest: IngestEndpoint;
  private readonly ingestRing: IngestRingProducer;
  private readonly sendLimit: SendLimit;
  private feedConns = 0;
  /** True while {@link settleIngest} runs. */
  private settling = false;
  private readonly proxy: HttpProxy;
  private readonly app: App;
  private readonly timers: NodeJS.Timeout[] = [];
  private listenSocket: ListenToken | undefined;
  private failing = false;
  private storeOpening: Promise<Store> | undefined;
  private ingestRefusal: IngestRefusal | undefined;

  constructor(private readonly s: EdgeWorkerSeams) {
    const { init } = s;
    const shared = init.shared;
    this.nextConnId = init.connIdBase + 1;
    const incidents: IncidentLogger = (incident, err) => s.log.error({ err, incident }, "request failed");
    this.reader = new RingReader(init.ring, { start: "tail" });
    this.connectionsPerIp = new SharedCounts(init.connectionsPerIp);
    // The worker's share of the daemon's budgets: last values split between the real-time and delayed feeds,
    // conflation shared by every conflating subscriber of both.
    const conflation: ByteBudget = { limit: init.conflateBytes, used: 0 };
    this.lvc = new LastValueCache({ limit: init.lastValueBytes / 2, used: 0 });
    const renderer = new JsonRenderer();
    // One turn-taker for the worker's replays and HTTP history answers, which share its replay slots.
    const scheduler = new ReplayScheduler();
    this.sendLimit = { bytes: init.backpressureBytes };
    this.realtime = new RealtimeFeed(this.lvc, this.sendLimit, this.counters, conflation, renderer);
    this.pump = new RingPump({
      reader: this.reader,
      walDir: init.dataDir.wal,
      fanOut: this.realtime,
      startSeq: Math.max(this.reader.lastSeq, shared[STATUS_WRITTEN_SEQ]),
      writtenSeq: () => shared[STATUS_WRITTEN_SEQ],
      onTorn: () => this.tornRun(),
    });
    const history: HistorySources = {
      walDir: init.dataDir.wal,
      store: () => (this.storeOpening ??= Store.open({ dir: init.dataDir.store })),
    };
    const newestSeq = () => Math.max(this.pump.dispatchedSeq, shared[STATUS_WRITTEN_SEQ]);
    this.delayed = new DelayedFeed(
      history,
      init.delayMs,
      this.sendLimit,
      this.counters,
      newestSeq,
      systemClock,
      {
        lastValues: { limit: init.lastValueBytes / 2, used: 0 },
        conflation,
      },
    );
    this.feeds = new FeedEndpoint({
      realtime: this.realtime,
      delayed: this.delayed,
      history,
      dispatchedSeq: () => this.pump.dispatchedSeq,
      writtenSeq: () => shared[STATUS_WRITTEN_SEQ],
      limit: this.sendLimit,
      slowConsumer: init.slowConsumer,
      delayMs: init.delayMs,
      counters: this.counters,
      limits: init.limits,
      renderer,
      scheduler,
      log: incidents,
    });
    this.ingestRing = new IngestRingProducer(init.ingestRing);
    this.ingestRefusal = init.ingestRefusal;
    this.ingest = new IngestEndpoint({
      decoder: new IngestDecoder(),
      link: this.ingestRing,
      writer: {
        // A replicating leader with --ack-after replicated acks what is durable here and in the stream.
        durableSeq:
          init.ackAfter === "replicated"
            ? () => Math.min(shared[STATUS_DURABLE_SEQ], shared[STATUS_REPLICATED_SEQ])
            : () => shared[STATUS_DURABLE_SEQ],
        failure: () => codeAt(shared[STATUS_WRITER_FAILED]),
        refusal: () => this.ingestRefusal,
      },
      ratePerSec: init.ingestRate,
      counters: this.ingestCounters,
      log: incidents,
      connection: (id) => this.conns.get(id),
    });
    this.proxy = new HttpProxy((msg) => s.post(msg));
    this.audit = new AuthAudit(s.log, this.authCounters);
    this.gate = new AuthGate({
      keys: init.auth,
      allowedOrigins: init.allowedOrigins,
      connectionsPerSub: new SharedCounts(init.connectionsPerSub),
      audit: this.audit,
      deliver: (conn, message, isBinary) =>
        (conn as Conn).kind === "feed"
          ? this.feeds.request(conn as Conn, bytesText(message))
          : this.ingestMessage(conn as Conn, message, isBinary),
    });
    const data = new HttpHistory({
      history,
      lastValues: this.lvc,
      newestSeq,
      scheduler,
      renderer,
      limits: init.limits,
      sendLimit: this.sendLimit,
      // An answer being streamed holds a connection of its client's address, as a WebSocket does.
      admit: (ip) => this.admitAddress(ip),
      release: (ip) => this.connectionsPerIp.release(ip),
      stallMs: HTTP_STALL_MS,
      log: incidents,
    });
    this.app = createApp<Conn>(s.transport, {
      feed: {
        open: (conn, ws) => {
          this.openConn(conn, ws, "feed");
          this.feeds.open(conn);
          this.feedConns++;
          this.shareSendBuffer();
        },
        message: (conn, message) => {
          if (!this.gate.intercept(conn, message, false)) this.feeds.request(conn, bytesText(message));
        },
        drain: (conn) => {
          this.feeds.drained(conn);
          finishPendingClose(conn);
        },
        close: (conn) => {
          this.feeds.closed(conn);
          this.closeConn(conn);
          this.feedConns--;
          this.shareSendBuffer();
        },
      },
      ingest: {
        open: (conn, ws) => {
          this.openConn(conn, ws, "ingest");
          this.ingest.open(conn);
        },
        message: (conn, message, isBinary) => {
          if (!this.gate.intercept(conn, message, isBinary)) this.ingestMessage(conn, message, isBinary);
        },
        drain: () => {},
        close: (conn) => {
          this.ingest.closed(conn);
          this.closeConn(conn);
        },
      },
      onHandlerError: (err, incident) =>
        s.log.error({ err, incident }, "connection handler failed: connection closed"),
      admit: (req) => this.admit(req as Conn),
      authorize: (ask) => this.gate.authorize(ask),
      dataAccess: (ask) => this.gate.dataAccess(ask),
      adminDone: (ask, action, status, code) => this.audit.adminAction(ask, action, status, code),
      health: () => health(shared, init.insecure),
      proxy: this.proxy,
      adminToken: init.adminToken,
      auth: this.gate.on,
      loopbackOnly: isLoopbackHost(init.host),
      feedMessageBytes: FEED_MESSAGE_BYTES,
      ingestMessageBytes: init.maxMessageBytes,
      backpressureBytes: init.backpressureBytes,
      maxRunBytes: MAX_RUN_BYTES,
      dashboard: StaticFiles.load(DASHBOARD_DIR, "/dashboard"),
      data,
    });
    const heartbeats = new Heartbeats([this.realtime, this.delayed], () => this.reader.lastSeq);
    this.timers.push(setInterval(() => heartbeats.beat(), init.heartbeatMs));
    this.timers.push(setInterval(() => this.publishStats(), STATS_EVERY_MS));
  }

  /**
   * Refills the last values from the WAL, starts the ring pump and listens. Resolves once listening; the
   * returned `pumping` settles when the pump stops (rejects if the ring or WAL failed under it).
   */
  start(): { pumping: Promise<void> } {
    const rebuilt = rebuildLastValues(this.lvc, this.s.init.dataDir.wal, this.pump.dispatchedSeq);
    if (rebuilt.stoppedBy !== undefined || rebuilt.skipped > 0) {
      this.s.log.warn(
        { err: rebuilt.stoppedBy, frames: rebuilt.frames, skipped: rebuilt.skipped },
        "last values rebuilt in part",
      );
    }
    const { host, port } = this.s.init;
    this.app.listen(host, port, (token) => {
      if (token === false) {
        this.s.post({ t: "listen-failed", message: `cannot listen on ${host}:${port}` });
        return;
      }
      this.listenSocket = token;
      this.s.post({ t: "listening", port: this.s.transport.localPort(token) });
    });
    return { pumping: this.pump.run() };
  }

  /**
   * While publishers' messages are in flight: settle what the ring's news brings (answers, durability),
   * then sleep on the ring until more news. One loop at a time.
   */
  private async settleIngest(): Promise<void> {
    this.settling = true;
    try {
      while (this.ingest.waiting && !this.failing) {
        // Read the counter before settling: news that lands meanwhile wakes the wait at once.
        const seen = this.ingestRing.news();
        this.ingest.settle();
        if (!this.ingest.waiting) break;
        await this.ingestRing.awaitNews(seen);
      }
    } finally {
      this.settling = false;
    }
  }

  /** Handles a message from the main thread. */
  onMessage(msg: ToWorker): void {
    switch (msg.t) {
      case "http-reply":
        this.proxy.answer(msg);
        return;
      case "auth-keys":
        this.gate.setKeys(msg.keys);
        return;
      case "shutdown":
        this.shutdown();
        return;
      case "ingest-refusal":
        this.ingestRefusal = msg.refusal;
        return;
    }
  }

  /**
   * Splits the worker's share of `--send-buffer-bytes` between its feed connections: each may hold at most
   * that much unsent (never more than `--backpressure-bytes`, never less than {@link MIN_SEND_LIMIT}) before
   * its slow-consumer policy applies. A thousand stalled clients then hold the budget, not a thousand times
   * the backpressure limit (bench/soak: 990 stalled `*` subscribers from one address took 1.5 GiB).
   */
  private shareSendBuffer(): void {
    const { sendBufferBytes, backpressureBytes } = this.s.init;
    const share = Math.floor(sendBufferBytes / Math.max(1, this.feedConns));
    this.sendLimit.bytes = Math.max(MIN_SEND_LIMIT, Math.min(backpressureBytes, share));
  }

  /** A publisher's message for the ingest endpoint; the loop that settles answers runs while any wait. */
  private ingestMessage(conn: Conn, message: Message, isBinary: boolean): void {
    this.ingest.message(conn, message, isBinary);
    if (!this.settling) void this.settleIngest();
  }

  /**
   * A client may open a connection unless the gate refuses it (origin, token) or its address holds its
   * limit over all workers already.
   */
  private admit(req: Conn): TickringError | undefined {
    return this.gate.admit(req) ?? this.admitAddress(req.ip);
  }

  /** One more connection of the client at `ip`, unless its address holds its limit over all workers. */
  private admitAddress(ip: string): TickringError | undefined {
    const limit = this.s.init.maxConnectionsPerIp;
    if (this.connectionsPerIp.tryAcquire(ip, limit)) return undefined;
    return new TickringError("LIMIT_REACHED", `at most ${limit} connections per client address`);
  }

  private closeConn(conn: Conn): void {
    this.conns.delete(conn.id);
    this.connectionsPerIp.release(conn.ip);
    this.gate.closed(conn);
  }

  private openConn(conn: Conn, ws: Socket, kind: Conn["kind"]): void {
    conn.ws = ws;
    conn.id = this.nextConnId++;
    conn.kind = kind;
    conn.closed = false;
    conn.sender = corkedSender(ws);
    this.conns.set(conn.id, conn);
    this.gate.opened(conn);
  }

  /**
   * A failure this worker cannot isolate (the ring pump, an exception that escaped): every client is closed
   * with 1011 and the thread ends cleanly, so the pool can replace it — never with sockets open, which would
   * abort the process. The clients reconnect (the client library resumes from its last seq).
   */
  fail(err: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.s.log.error({ err }, "socket worker failed: closing its clients and ending");
    this.s.post({ t: "failed", message: String((err as Error)?.message ?? err) });
    this.shutdown(1011, "server worker failed: reconnect (the tickring client resumes from its last seq)");
  }

  /**
   * Stops listening, closes every client with a close frame, and lets the thread end by itself: a worker
   * stopped while uWS still holds a socket aborts the whole process ("uv_loop_close() while having open
   * handles"). HTTP responses close their connections for the same reason, so none lingers in keep-alive.
   */
  private shutdown(code = 1001, reason = "server shutting down"): void {
    this.pump.stop();
    if (this.listenSocket !== undefined) this.s.transport.closeListen(this.listenSocket);
    this.listenSocket = undefined;
    for (const t of this.timers) clearInterval(t);
    this.delayed.stop();
    this.proxy.shutdown();
    for (const conn of this.conns.values()) {
      if (!conn.closed) {
        conn.closed = true;
        conn.ws.end(code, reason);
      }
    }
    const deadline = performance.now() + CLOSE_GRACE_MS;
    const waitForClients = setInterval(() => {
      if (this.conns.size > 0 && performance.now() < deadline) return;
      clearInterval(waitForClients);
      // Clients that did not answer the close frame in time are cut.
      for (const conn of this.conns.values()) conn.ws.close();
      this.s.post({ t: "closed" });
      // uWS's socket handles do not keep the loop alive; give closing sockets loop turns to finish.
      setTimeout(() => this.s.release(), SOCKET_CLOSE_MS);
    }, 5);
  }

  /** The writer overtook bytes being sent: every real-time subscriber that got them may hold a torn frame. */
  private tornRun(): void {
    for (const conn of this.conns.values()) {
      if (conn.kind === "feed" && conn.subs.size > 0 && !conn.closed) {
        conn.closed = true;
        this.counters.disconnects++;
        conn.ws.end(1011, "server overrun while sending: reconnect and replay from your last seq");
      }
    }
  }

  private publishStats(): void {
    const s = this.s.init.shared;
    const base = workerBase(this.s.init.index);
    let subscriptions = 0;
    for (const c of this.conns.values()) if (c.kind === "feed") subscriptions += this.feeds.subscriptions(c);
    const c = this.counters;
    s[base + W.connections] = this.conns.size;
    s[base + W.subscriptions] = subscriptions;
    s[base + W.framesSent] = c.framesSent;
    s[base + W.bytesSent] = c.bytesSent;
    s[base + W.messagesSent] = c.messagesSent;
    s[base + W.drops] = c.drops;
    s[base + W.gaps] = c.gaps;
    s[base + W.conflated] = c.conflated;
    s[base + W.disconnects] = c.disconnects;
    s[base + W.laps] = this.pump.counters.laps;
    s[base + W.caughtUp] = this.pump.counters.caughtUp;
    s[base + W.ringPosition] = this.reader.position();
    s[base + W.ringLag] = this.reader.lag();
    s[base + W.ingestMessages] = this.ingestCounters.messages;
    s[base + W.ingestTicks] = this.ingestCounters.ticks;
    s[base + W.ingestRejected] = this.ingestCounters.rejected;
    s[base + W.authRefused] = this.authCounters.refused;
    s[base + W.authForbidden] = this.authCounters.forbidden;
    s[base + W.authExpired] = this.authCounters.expired;
    s[base + W.adminActions] = this.authCounters.adminActions;
  }
}

/** The error code stored as 1 + its index in a shared slot, or undefined for 0. */
function codeAt(slot: number): ErrorCode | undefined {
  return slot > 0 ? ERROR_CODES[slot - 1] : undefined;
}

/**
 * `/healthz` from the shared state: 200 with the durable seq when serving (a replication follower's too,
 * saying it takes no ingest); 503 with the recovery's progress while starting, or with the reason ingest is
 * refused (`read_only`, e.g. DISK_FULL, or NOT_READY while a node joins or takes over) while the feeds serve;
 * `"insecure":true` while serving beyond loopback without auth (`--insecure`).
 */
function health(shared: Float64Array, insecure: boolean): { status: number; body: string } {
  const flag = insecure ? `,"insecure":true` : "";
  if (shared[STATUS_STATE] !== STATE_READY) {
    return {
      status: 503,
      body: `{"status":"starting","progress":${shared[STATUS_RECOVERY_PERCENT]}${flag}}`,
    };
  }
  const seq = shared[STATUS_DURABLE_SEQ];
  const refused = codeAt(shared[STATUS_INGEST_REFUSED]);
  // A follower of a replication group takes no ingest by design: it is healthy, serving its feeds.
  if (refused === "READ_ONLY")
    return { status: 200, body: `{"status":"ok","seq":${seq},"ingest":"READ_ONLY"${flag}}` };
  // Serving, but not taking ingest (a full disk): a supervisor or a load balancer should know why.
  if (refused !== undefined)
    return { status: 503, body: `{"status":"read_only","reason":"${refused}","seq":${seq}${flag}}` };
  return { status: 200, body: `{"status":"ok","seq":${seq}${flag}}` };
}
