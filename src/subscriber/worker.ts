/**
 * A subscriber worker: one uWS app on the shared port (SO_REUSEPORT; the kernel spreads connections over
 * the workers), one ring reader with its own cursor, and the feeds it serves. Publishers whose
 * connection lands here have their messages decoded and encoded here, then handed to the sequencer.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { parentPort, workerData } from "node:worker_threads";
import { adoptClockOffset } from "../clock.js";
import type { ToMain, ToWorker, WorkerInit } from "../daemon/messages.js";
import {
  STATE_READY,
  STATUS_DURABLE_SEQ,
  STATUS_RECOVERY_PERCENT,
  STATUS_STATE,
  STATUS_WRITTEN_SEQ,
  W,
  workerBase,
} from "../daemon/shared-state.js";
import { TickringError } from "../errors.js";
import { FrameEncoder, frameInstrumentId, frameLength, frameSeq } from "../frame/codec.js";
import { IngestDecoder } from "../publisher/ingest-decoder.js";
import { dataDirLayout, listSegments, openWalReader, Store, WalSeqRetiredError } from "../storage/index.js";
import {
  arrayBufferToText,
  type HttpResponse,
  type ListenSocket,
  loadUws,
  type WebSocket,
} from "../uws/uws.js";
import { DelayedFeed } from "./delayed-feed.js";
import { HistoryReader, type HistorySources, seqAtTime } from "./history.js";
import { LastValueCache } from "./last-value-cache.js";
import { parseFeedRequest, type SubscribeRequest } from "./protocol.js";
import {
  type FeedConnection,
  type FeedCounters,
  RealtimeFeed,
  RealtimeSubscription,
} from "./realtime-feed.js";
import { HistoricalReplay, type ReplayHost, type ReplayPlan } from "./replay.js";
import { POLL_EMPTY, POLL_LAPPED, RingReader } from "./ring-reader.js";
import { corkedSender } from "./send.js";
import { SymbolFilter } from "./symbol-filter.js";

const init = workerData as WorkerInit;
adoptClockOffset(init.clockOffsetNs);
const port = parentPort!;
const { uws } = loadUws();

/** Runs handled before yielding to uWS, so sockets are served while the ring is busy. */
const RUNS_PER_TURN = 64;
const MAX_RUN_BYTES = 64 * 1024;
/** Frames read back from the WAL at start to refill the last-value cache. */
const LVC_REBUILD_FRAMES = 200_000;
/** How long clients get to answer our close frame at shutdown. */
const CLOSE_GRACE_MS = 1000;
/** Loop time given to sockets being closed before the thread may end. */
const SOCKET_CLOSE_MS = 100;

interface Conn extends FeedConnection {
  id: number;
  kind: "feed" | "ingest";
  subs: Map<number, RealtimeSubscription>;
  delayed: Map<number, RealtimeSubscription>;
  replays: Map<number, HistoricalReplay>;
  /** Ingest token bucket. */
  tokens: number;
  refilledAt: number;
}

const conns = new Map<number, Conn>();
let nextConnId = 1;
const counters: FeedCounters = {
  framesSent: 0,
  bytesSent: 0,
  messagesSent: 0,
  drops: 0,
  gaps: 0,
  conflated: 0,
  disconnects: 0,
};
const ingestCounters = { messages: 0, ticks: 0, rejected: 0 };
let laps = 0;
/** Frames a lapped worker re-read from the WAL. */
let caughtUp = 0;

const reader = new RingReader(init.ring, { start: "tail" });
/**
 * The newest seq this worker has fanned out (or, before any, the newest written when it started): live
 * replays join the real-time feed right after it.
 */
let dispatchedSeq = Math.max(reader.lastSeq, init.shared[STATUS_WRITTEN_SEQ]);
const lvc = new LastValueCache();
const feed = new RealtimeFeed(lvc, init.backpressureBytes, counters);
const decoder = new IngestDecoder();
const heartbeatEncoder = new FrameEncoder();
const pendingHttp = new Map<number, { res: HttpResponse; aborted: boolean }>();
let nextHttpId = 1;
let listenSocket: ListenSocket | undefined;
let running = true;

const app = uws.App();

app.ws<Conn>("/v1/feed", {
  maxPayloadLength: 64 * 1024,
  // uWS silently drops a send above maxBackpressure; our policy acts at backpressureBytes, and the
  // margin lets the message that crossed the limit through, so nothing is lost without a gap report.
  maxBackpressure: init.backpressureBytes + 4 * MAX_RUN_BYTES,
  idleTimeout: 120,
  sendPingsAutomatically: true,
  open: (ws) => openConn(ws, "feed"),
  message: (ws, message, isBinary) => {
    const conn = ws.getUserData();
    if (isBinary) {
      conn.closed = true;
      ws.end(1003, "binary messages are not accepted on /v1/feed: send JSON text requests");
      return;
    }
    onFeedRequest(conn, arrayBufferToText(message));
  },
  drain: (ws) => {
    const conn = ws.getUserData();
    for (const sub of conn.subs.values()) feed.drained(sub);
    for (const replay of conn.replays.values()) replay.pump();
    for (const sub of conn.delayed.values()) delayed.drained(sub);
  },
  close: (ws) => closeConn(ws.getUserData()),
});

app.ws<Conn>("/v1/ingest", {
  maxPayloadLength: init.maxMessageBytes,
  maxBackpressure: 1024 * 1024,
  idleTimeout: 120,
  sendPingsAutomatically: true,
  open: (ws) => openConn(ws, "ingest"),
  message: (ws, message, isBinary) => onIngest(ws.getUserData(), message, isBinary),
  close: (ws) => closeConn(ws.getUserData()),
});

app.get("/healthz", (res) => {
  const ready = init.shared[STATUS_STATE] === STATE_READY;
  const body = ready
    ? `{"status":"ok","seq":${init.shared[STATUS_DURABLE_SEQ]}}`
    : `{"status":"starting","progress":${init.shared[STATUS_RECOVERY_PERCENT]}}`;
  res
    .writeStatus(ready ? "200 OK" : "503 Service Unavailable")
    .writeHeader("content-type", "application/json")
    .end(body, true);
});
app.get("/metrics", (res, req) => askMain(res, "GET", req.getUrl(), ""));
app.get("/v1/stats", (res, req) => askMain(res, "GET", req.getUrl(), ""));
app.post("/v1/admin/*", (res, req) => {
  const url = req.getUrl();
  const auth = req.getHeader("authorization");
  if (init.adminToken !== undefined && auth !== `Bearer ${init.adminToken}`) {
    res
      .writeStatus("401 Unauthorized")
      .end('{"op":"error","code":"BAD_REQUEST","message":"admin token required"}', true);
    return;
  }
  askMain(res, "POST", url, "");
});
app.any("/*", (res, req) => {
  res
    .writeStatus("404 Not Found")
    .writeHeader("content-type", "application/json")
    .end(`{"error":"no route ${req.getMethod().toUpperCase()} ${req.getUrl()}"}`, true);
});

app.listen(init.host, init.port, (token) => {
  if (token === false) {
    send({ t: "listen-failed", message: `cannot listen on ${init.host}:${init.port}` });
    return;
  }
  listenSocket = token;
  send({ t: "listening", port: uws.us_socket_local_port(token as never) });
});

function openConn(ws: WebSocket<Conn>, kind: Conn["kind"]): void {
  const conn = ws.getUserData();
  conn.ws = ws as WebSocket<unknown>;
  conn.id = nextConnId++;
  conn.kind = kind;
  conn.closed = false;
  conn.subs = new Map();
  conn.replays = new Map();
  conn.delayed = new Map();
  conn.sender = corkedSender(conn.ws);
  conn.tokens = init.ingestRate;
  conn.refilledAt = performance.now();
  conns.set(conn.id, conn);
}

function closeConn(conn: Conn): void {
  conn.closed = true;
  for (const sub of conn.subs.values()) feed.remove(sub);
  conn.subs.clear();
  for (const replay of [...conn.replays.values()]) replay.stop();
  for (const sub of conn.delayed.values()) delayed.remove(sub);
  conn.delayed.clear();
  conns.delete(conn.id);
}

function onFeedRequest(conn: Conn, text: string): void {
  try {
    const req = parseFeedRequest(text);
    switch (req.op) {
      case "ping":
        conn.ws.send(`{"op":"pong","seq":${dispatchedSeq}}`, false);
        return;
      case "unsubscribe": {
        const sub = conn.subs.get(req.id);
        const late = conn.delayed.get(req.id);
        const replay = conn.replays.get(req.id);
        if (sub === undefined && late === undefined && replay === undefined) {
          throw new TickringError("BAD_REQUEST", `no subscription with id ${req.id}`);
        }
        if (sub !== undefined) feed.remove(sub);
        if (late !== undefined) delayed.remove(late);
        conn.subs.delete(req.id);
        conn.delayed.delete(req.id);
        replay?.stop();
        conn.ws.send(`{"op":"unsubscribed","id":${req.id}}`, false);
        return;
      }
      case "subscribe": {
        if (inUse(conn, req.id))
          throw new TickringError("BAD_REQUEST", `subscription id ${req.id} is in use`);
        if (req.feed === "historical") {
          startReplay(conn, req).catch((err) => sendError(conn, err));
          return;
        }
        const sub = new RealtimeSubscription(
          req.id,
          conn,
          new SymbolFilter(req.symbols),
          req.format === "json",
          req.policy ?? init.slowConsumer,
        );
        if (req.feed === "delayed") {
          conn.delayed.set(req.id, sub);
          conn.ws.send(
            `{"op":"subscribed","id":${req.id},"feed":"delayed","delay_ms":${init.delayMs}}`,
            false,
          );
          delayed.add(sub).catch((err) => sendError(conn, err));
          return;
        }
        conn.subs.set(req.id, sub);
        conn.ws.send(`{"op":"subscribed","id":${req.id},"feed":"realtime","seq":${dispatchedSeq}}`, false);
        feed.add(sub);
        return;
      }
    }
  } catch (err) {
    sendError(conn, err);
  }
}

/** Resolves a historical request to seqs and starts its replay. */
async function startReplay(conn: Conn, req: SubscribeRequest): Promise<void> {
  if (req.live && req.to !== undefined) {
    throw new TickringError("BAD_REQUEST", '"live" continues past history: it cannot be combined with "to"');
  }
  const newest = Math.max(dispatchedSeq, init.shared[STATUS_WRITTEN_SEQ]);
  const from = req.from!;
  const fromSeq = "seq" in from ? from.seq : await seqAtTime(history, Number(from.timeNs), 1, newest);
  const to = req.to;
  const plan: ReplayPlan = {
    id: req.id,
    filter: new SymbolFilter(req.symbols),
    json: req.format === "json",
    toSeq: req.live ? Number.MAX_SAFE_INTEGER : to !== undefined && "seq" in to ? to.seq : newest,
    toTimeNs: to !== undefined && "timeNs" in to ? Number(to.timeNs) : Number.POSITIVE_INFINITY,
    speed: req.speed,
    live: req.live,
    policy: req.policy ?? init.slowConsumer,
  };
  if (conn.closed || inUse(conn, req.id)) return;
  const replay = new HistoricalReplay(
    plan,
    conn,
    new HistoryReader(history, fromSeq),
    replayHost,
    init.backpressureBytes,
    counters,
  );
  conn.replays.set(req.id, replay);
  conn.ws.send(
    `{"op":"subscribed","id":${req.id},"feed":"historical","from_seq":${fromSeq},"to_seq":${req.live ? null : plan.toSeq}}`,
    false,
  );
  replay.pump();
}

function inUse(conn: Conn, id: number): boolean {
  return conn.subs.has(id) || conn.delayed.has(id) || conn.replays.has(id);
}

const replayHost: ReplayHost = {
  liveSeq: () => dispatchedSeq,
  goLive: (replay) => {
    const conn = replay.conn as Conn;
    conn.replays.delete(replay.id);
    if (conn.closed) return;
    const { plan } = replay;
    const sub = new RealtimeSubscription(plan.id, conn, plan.filter, plan.json, plan.policy);
    conn.subs.set(plan.id, sub);
    feed.add(sub, false);
  },
  ended: (replay) => {
    (replay.conn as Conn).replays.delete(replay.id);
  },
};

let storeOpening: Promise<Store> | undefined;
const history: HistorySources = {
  walDir: dataDirLayout(init.data).walDir,
  store: () => (storeOpening ??= Store.open({ dir: dataDirLayout(init.data).storeDir })),
};
const delayed = new DelayedFeed(history, init.delayMs, init.backpressureBytes, counters, () =>
  Math.max(dispatchedSeq, init.shared[STATUS_WRITTEN_SEQ]),
);

function onIngest(conn: Conn, message: ArrayBuffer, isBinary: boolean): void {
  if (init.ingestRate > 0 && !takeToken(conn)) {
    ingestCounters.rejected++;
    sendError(
      conn,
      new TickringError("RATE_LIMITED", `more than ${init.ingestRate} messages/s on this connection`),
    );
    return;
  }
  try {
    const { frames, count } = decoder.decode(message, isBinary);
    ingestCounters.messages++;
    ingestCounters.ticks += count;
    port.postMessage({ t: "ingest", conn: conn.id, frames, count } satisfies ToMain, [frames]);
  } catch (err) {
    ingestCounters.rejected++;
    sendError(conn, err);
  }
}

function takeToken(conn: Conn): boolean {
  const now = performance.now();
  conn.tokens = Math.min(init.ingestRate, conn.tokens + ((now - conn.refilledAt) / 1000) * init.ingestRate);
  conn.refilledAt = now;
  if (conn.tokens < 1) return false;
  conn.tokens -= 1;
  return true;
}

function sendError(conn: Conn, err: unknown): void {
  const e =
    err instanceof TickringError ? err : new TickringError("INTERNAL", (err as Error).message ?? String(err));
  if (!conn.closed) conn.ws.send(JSON.stringify({ op: "error", code: e.code, message: e.message }), false);
}

function askMain(res: HttpResponse, method: string, path: string, body: string): void {
  const id = nextHttpId++;
  const pending = { res, aborted: false };
  pendingHttp.set(id, pending);
  res.onAborted(() => {
    pending.aborted = true;
    pendingHttp.delete(id);
  });
  send({ t: "http", id, method, path, body });
}

port.on("message", (msg: ToWorker) => {
  switch (msg.t) {
    case "acks":
      for (let i = 0; i < msg.pairs.length; i += 2) {
        const conn = conns.get(msg.pairs[i]);
        if (conn !== undefined && !conn.closed) conn.ws.send(`{"op":"ack","seq":${msg.pairs[i + 1]}}`, false);
      }
      return;
    case "http-reply": {
      const pending = pendingHttp.get(msg.id);
      pendingHttp.delete(msg.id);
      if (pending === undefined || pending.aborted) return;
      pending.res.cork(() => {
        pending.res
          .writeStatus(String(msg.status))
          .writeHeader("content-type", msg.contentType)
          .end(msg.body, true);
      });
      return;
    }
    case "shutdown":
      shutdown();
      return;
  }
});

/**
 * Stops listening, closes every client with a close frame, and lets the thread end by itself: a worker
 * stopped while uWS still holds a socket aborts the whole process ("uv_loop_close() while having open
 * handles"). HTTP responses close their connections for the same reason, so none lingers in keep-alive.
 */
function shutdown(): void {
  running = false;
  if (listenSocket !== undefined) uws.us_listen_socket_close(listenSocket);
  listenSocket = undefined;
  clearInterval(statsTimer);
  clearInterval(heartbeatTimer);
  delayed.stop();
  for (const { res } of pendingHttp.values())
    res.cork(() => res.writeStatus("503 Service Unavailable").end("", true));
  pendingHttp.clear();
  for (const conn of conns.values()) {
    if (!conn.closed) {
      conn.closed = true;
      conn.ws.end(1001, "server shutting down");
    }
  }
  const deadline = performance.now() + CLOSE_GRACE_MS;
  const waitForClients = setInterval(() => {
    if (conns.size > 0 && performance.now() < deadline) return;
    clearInterval(waitForClients);
    // Clients that did not answer the close frame in time are cut.
    for (const conn of conns.values()) conn.ws.close();
    send({ t: "closed" });
    // uWS's socket handles do not keep the loop alive; give closing sockets loop turns to finish.
    setTimeout(() => port.unref(), SOCKET_CLOSE_MS);
  }, 5);
}

function send(msg: ToMain): void {
  port.postMessage(msg);
}

/**
 * Moves frames from the ring to the sockets until shut down. Invariant: every dispatch starts at
 * `dispatchedSeq + 1`. A lap, or a run too close to being overwritten to send safely, is made good from
 * the WAL (which holds every frame before the ring gets it); ring frames the WAL already gave are skipped.
 */
async function pump(): Promise<void> {
  const safeHeadroom = reader.capacity / 4;
  const runBytes = Math.min(MAX_RUN_BYTES, reader.capacity / 4);
  const bytes = reader.bytes;
  while (running) {
    let runs = 0;
    for (; runs < RUNS_PER_TURN; runs++) {
      const polled = reader.poll(runBytes);
      if (polled === POLL_EMPTY) break;
      if (polled === POLL_LAPPED) {
        laps++;
        catchUpFromWal(Number.MAX_SAFE_INTEGER);
        continue;
      }
      let start = reader.runStart;
      const end = reader.runEnd;
      while (start < end && frameSeq(bytes, start) <= dispatchedSeq) start += frameLength(bytes, start);
      if (start === end) continue;
      const first = frameSeq(bytes, start);
      if (first > dispatchedSeq + 1) catchUpFromWal(first - 1);
      // A run about to be overwritten is not sent from the ring: a torn frame cannot be recalled.
      if (reader.headroom() < safeHeadroom) {
        laps++;
        catchUpFromWal(Number.MAX_SAFE_INTEGER);
        continue;
      }
      feed.dispatch(bytes, start, end);
      dispatchedSeq = reader.lastSeq;
      if (!reader.runIntact()) tornRun();
    }
    if (runs === RUNS_PER_TURN) await yieldToLoop();
    else if (running) await reader.awaitData();
  }
}

let staging = new Uint8Array(MAX_RUN_BYTES);

/**
 * Fans out seqs from `dispatchedSeq + 1` to `to` (or to the end of the WAL) read from the WAL. Frames are
 * copied into a staging buffer (once per worker, not per subscriber) so they go out in runs like ring
 * frames. Seqs retention already took from the WAL are reported to subscribers as a gap.
 */
function catchUpFromWal(to: number): void {
  let used = 0;
  const flush = () => {
    if (used > 0) feed.dispatch(staging, 0, used);
    used = 0;
  };
  const from = dispatchedSeq + 1;
  let wal: ReturnType<typeof openWalReader> | undefined;
  try {
    wal = openWalReader(history.walDir, from, { bufferBytes: 4 << 20 });
    for (let b = wal.nextSync(to); b !== null; b = wal.nextSync(to)) {
      for (let i = 0; i < b.count; i++) {
        const off = b.offsets[i];
        const len = frameLength(b.bytes, off);
        if (used + len > staging.length) {
          flush();
          if (len > staging.length) staging = new Uint8Array(len);
        }
        staging.set(b.bytes.subarray(off, off + len), used);
        used += len;
      }
      flush();
      dispatchedSeq = b.lastSeq;
    }
  } catch (err) {
    if (!(err instanceof WalSeqRetiredError)) throw err;
    const firstWal = listSegments(history.walDir)[0]?.firstSeq ?? from;
    feed.reportGap(from, Math.min(to, firstWal - 1));
    dispatchedSeq = Math.min(to, firstWal - 1);
  } finally {
    wal?.close();
  }
  caughtUp += dispatchedSeq - from + 1;
}

/** The writer overtook bytes we were sending: the clients that got them may hold a torn frame. */
function tornRun(): void {
  for (const conn of conns.values()) {
    if (conn.kind === "feed" && conn.subs.size > 0 && !conn.closed) {
      conn.closed = true;
      counters.disconnects++;
      conn.ws.end(1011, "server overrun while sending: reconnect and replay from your last seq");
    }
  }
}

const base = workerBase(init.index);
const statsTimer = setInterval(() => {
  const s = init.shared;
  let subscriptions = 0;
  for (const c of conns.values()) subscriptions += c.subs.size + c.delayed.size + c.replays.size;
  s[base + W.connections] = conns.size;
  s[base + W.subscriptions] = subscriptions;
  s[base + W.framesSent] = counters.framesSent;
  s[base + W.bytesSent] = counters.bytesSent;
  s[base + W.messagesSent] = counters.messagesSent;
  s[base + W.drops] = counters.drops;
  s[base + W.gaps] = counters.gaps;
  s[base + W.conflated] = counters.conflated;
  s[base + W.disconnects] = counters.disconnects;
  s[base + W.laps] = laps;
  s[base + W.caughtUp] = caughtUp;
  s[base + W.ringPosition] = reader.position();
  s[base + W.ringLag] = reader.lag();
  s[base + W.ingestMessages] = ingestCounters.messages;
  s[base + W.ingestTicks] = ingestCounters.ticks;
  s[base + W.ingestRejected] = ingestCounters.rejected;
}, 200);

const idle: RealtimeSubscription[] = [];
const idleDelayed: RealtimeSubscription[] = [];
const heartbeatTimer = setInterval(() => {
  feed.idle(idle);
  delayed.idle(idleDelayed);
  for (const sub of idleDelayed) idle.push(sub);
  if (idle.length === 0) return;
  const seq = reader.lastSeq;
  const frame = heartbeatEncoder.encodeHeartbeat(BigInt(seq), 0n).slice();
  const text = `{"op":"heartbeat","seq":${seq}}`;
  for (const sub of idle) {
    if (!sub.conn.closed) sub.conn.ws.send(sub.json ? text : frame, !sub.json);
  }
}, init.heartbeatMs);

/**
 * After a restart the ring is empty, so the last-value cache starts from the WAL: the last
 * {@link LVC_REBUILD_FRAMES} frames up to where the ring takes over. A symbol quiet for longer gets its
 * last value with its next tick.
 */
function rebuildLastValues(): void {
  const from = Math.max(1, dispatchedSeq - LVC_REBUILD_FRAMES + 1);
  if (dispatchedSeq < 1) return;
  let wal: ReturnType<typeof openWalReader> | undefined;
  try {
    wal = openWalReader(history.walDir, from, { bufferBytes: 4 << 20 });
    for (let b = wal.nextSync(dispatchedSeq); b !== null; b = wal.nextSync(dispatchedSeq)) {
      for (let i = 0; i < b.count; i++) {
        const off = b.offsets[i];
        lvc.update(frameInstrumentId(b.bytes, off), b.firstSeq + i, b.bytes, off, frameLength(b.bytes, off));
      }
    }
  } catch (err) {
    // Retention may have taken that range: start empty rather than not at all.
    if (!(err instanceof WalSeqRetiredError)) throw err;
  } finally {
    wal?.close();
  }
}

rebuildLastValues();
pump().catch((err) => {
  console.error(`worker ${init.index}: ring pump failed`, err);
  process.exit(1);
});
