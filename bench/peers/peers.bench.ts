/**
 * Side by side with NATS (Debian's nats-server, installed by bench/peers/install.sh), each comparison in
 * the same run, against the same ticks (FlatBuffers quote frames of the e2e bench):
 *
 * - fan-out: paced ticks to N WebSocket clients — tickring real-time (`/v1/ingest` → `/v1/feed`) against
 *   NATS core (one `PUB ticks.<symbol>` per tick over TCP → the NATS WebSocket listener, `SUB ticks.>`),
 *   both loaded by bench/e2e's load processes: delivered frames/s and latency from the intended send time;
 * - persistence: acked publishes/s with a window of unacked messages in flight — JetStream file store
 *   (`js.publish`, one tick per message) against tickring ingest acks under `--fsync os` (the matching
 *   setting: JetStream 2.9 does not fsync per publish) and under `--fsync batch` (tickring's default);
 * - replay: N stored ticks read from the start — a JetStream ordered consumer against tickring
 *   historical replay at `speed:"max"`, one client each.
 *
 *   node dist/bench/peers/peers.bench.js [flags]   (flags: bench/catalog.ts, or --help)
 *
 * Without nats-server on the PATH it says so and exits 0 (JSON: `"available": false`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "hdr-histogram-js";
import { connect, type JetStreamClient, type NatsConnection, StorageType } from "nats";
import WebSocket from "ws";
import { type DaemonProcess, spawnDaemon } from "../../src/daemon/child-process.js";
import { frameLength } from "../../src/frame/codec.js";
import { PEERS } from "../catalog.js";
import { type LoadResult, runLoadGroup } from "../e2e/load-group.js";
import { encodeTicks, SYMBOLS } from "../e2e/ticks.js";
import { benchFlags } from "../flags.js";
import { type ReplayRun as ClientReplayRun, replayToDone } from "../replay/replay-client.js";
import { natsServerVersion, type NatsServer, startNats } from "./nats-server.js";

const values = benchFlags(PEERS);
const smoke = values.smoke;
const seconds = smoke ? 0.3 : values.duration;
const REPLAY_FRAMES = smoke ? 5_000 : values.frames;
const WINDOW = values.window;
/** JetStream stream for persistence and replay; its subjects do not overlap the fan-out's `ticks.>`. */
const STREAM = "HIST";

function progress(text: string): void {
  process.stderr.write(`peers: ${text}\n`);
}

const version = natsServerVersion();
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version };
if (version === null) {
  const reason = "nats-server is not installed (run bench/peers/install.sh): peer comparisons skipped";
  if (values.json) console.log(JSON.stringify({ bench: "peers", available: false, reason, machine }));
  else console.log(`peers: ${reason}`);
  process.exit(0);
}

/** One quote tick as a size-prefixed frame (seq and ts_recv 0: the server stamps them). */
function tick(k: number): Buffer {
  return encodeTicks(k, 1, process.hrtime.bigint())[0];
}

function latencyHistogram() {
  return build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 6e10 });
}
const usAt = (h: ReturnType<typeof latencyHistogram>, p: number) =>
  h.totalCount === 0 ? 0 : Math.round(h.getValueAtPercentile(p) / 10) / 100;

async function withDaemon<T>(args: string[], run: (d: DaemonProcess) => Promise<T>): Promise<T> {
  const data = mkdtempSync(join(tmpdir(), "tickring-peers-"));
  const daemon = await spawnDaemon([
    "--port",
    "0",
    "--data",
    data,
    "--workers",
    String(values.workers),
    ...args,
  ]);
  try {
    return await run(daemon);
  } finally {
    await daemon.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

async function withNats<T>(run: (n: NatsServer) => Promise<T>): Promise<{ result: T; config: string }> {
  const server = await startNats();
  try {
    return { result: await run(server), config: server.config };
  } finally {
    await server.stop();
  }
}

async function openWs(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return ws;
}

// ---------------------------------------------------------------------------------------------------
// Fan-out

interface FanoutScenario {
  clients: number;
  rate: number;
}
const FANOUT: FanoutScenario[] = smoke
  ? [{ clients: 2, rate: 2_000 }]
  : [
      { clients: 1, rate: 10_000 },
      { clients: 100, rate: 10_000 },
      { clients: 100, rate: 50_000 },
    ];
const procsFor = (clients: number) => (smoke ? 1 : Math.max(1, Math.min(clients, Math.ceil(clients / 50))));

async function fanout(): Promise<{ scenario: string; tickring: LoadResult; nats: LoadResult }[]> {
  const rows = [];
  for (const s of FANOUT) {
    const label = `${s.clients} client${s.clients > 1 ? "s" : ""} @ ${s.rate / 1000}K/s`;
    const common = {
      clients: s.clients,
      rate: s.rate,
      procs: procsFor(s.clients),
      seconds,
      warmupS: smoke ? 0.1 : 0.5,
    };
    progress(`fan-out ${label}: tickring`);
    const tickring = await withDaemon([], (d) =>
      runLoadGroup({
        ...common,
        system: "tickring",
        ingest: `ws://127.0.0.1:${d.port}/v1/ingest`,
        feed: `ws://127.0.0.1:${d.port}/v1/feed`,
        subscribe: '{"op":"subscribe","id":1,"symbols":["*"]}',
      }),
    );
    progress(`fan-out ${label}: nats`);
    const { result: nats } = await withNats((n) =>
      runLoadGroup({ ...common, system: "nats", ingest: n.url, feed: n.wsUrl }),
    );
    rows.push({ scenario: label, tickring, nats });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------
// Persistence: acked publishes with WINDOW messages in flight, for `seconds`.

/** One persistence row of the JSON result (bench/report renders it). */
export interface PersistRow {
  system: "tickring" | "nats";
  label: string;
  durability: string;
  ticksPerMessage: number;
  /** Messages unacked at most. */
  inFlight: number;
  framesPerSecond: number;
  ackLatencyUs: { p50: number; p99: number; p999: number };
}

/**
 * Publishes `perMessage` ticks per ingest message for `seconds`, with WINDOW ticks unacked at most
 * (WINDOW ÷ perMessage messages, at least one): the same ticks in flight as the JetStream run.
 */
async function tickringAcked(
  port: number,
  perMessage: number,
): Promise<Omit<PersistRow, "label" | "durability">> {
  const window = Math.max(1, Math.round(WINDOW / perMessage));
  const ws = await openWs(`ws://127.0.0.1:${port}/v1/ingest`);
  const h = latencyHistogram();
  const sentAt: number[] = [];
  let sent = 0;
  let acked = 0;
  let k = 0;
  const endAt = performance.now() + seconds * 1000;
  const send = () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < perMessage; i++) parts.push(tick(k++));
    sentAt.push(Number(process.hrtime.bigint()));
    sent++;
    ws.send(perMessage === 1 ? parts[0] : Buffer.concat(parts));
  };
  const t0 = performance.now();
  let stopAt = 0;
  await new Promise<void>((resolve, reject) => {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const msg = JSON.parse(data.toString()) as { op: string; seq?: number };
      if (msg.op === "error") return reject(new Error(`ingest error: ${data}`));
      if (msg.op !== "ack") return;
      // Message i (1-based) ends at seq i × perMessage: an ack for seq N covers every message up to it.
      const upTo = Math.floor(msg.seq! / perMessage);
      const now = Number(process.hrtime.bigint());
      for (; acked < upTo; acked++) h.recordValue(Math.max(1, now - sentAt[acked]));
      if (performance.now() < endAt) {
        while (sent - acked < window) send();
      } else if (stopAt === 0) stopAt = performance.now();
      if (acked === sent && stopAt !== 0) resolve();
    });
    for (let i = 0; i < window; i++) send();
  });
  ws.close();
  return {
    system: "tickring",
    ticksPerMessage: perMessage,
    inFlight: window,
    framesPerSecond: Math.round((acked * perMessage) / ((stopAt - t0) / 1000)),
    ackLatencyUs: { p50: usAt(h, 50), p99: usAt(h, 99), p999: usAt(h, 99.9) },
  };
}

async function natsClient(n: NatsServer): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
  const nc = await connect({ servers: n.url.replace("nats://", "") });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: STREAM, subjects: ["hist.>"], storage: StorageType.File });
  return { nc, js: nc.jetstream() };
}

async function natsAcked(n: NatsServer): Promise<Omit<PersistRow, "label" | "durability">> {
  const { nc, js } = await natsClient(n);
  const h = latencyHistogram();
  let sent = 0;
  let acked = 0;
  const t0 = performance.now();
  const endAt = t0 + seconds * 1000;
  let stopAt = 0;
  await new Promise<void>((resolve, reject) => {
    const one = () => {
      const k = sent++;
      const start = Number(process.hrtime.bigint());
      js.publish(`hist.${SYMBOLS[k % SYMBOLS.length]}`, tick(k)).then(() => {
        h.recordValue(Math.max(1, Number(process.hrtime.bigint()) - start));
        acked++;
        if (performance.now() < endAt) one();
        else if (stopAt === 0) stopAt = performance.now();
        if (acked === sent && stopAt !== 0) resolve();
      }, reject);
    };
    for (let i = 0; i < WINDOW; i++) one();
  });
  await nc.close();
  return {
    system: "nats",
    ticksPerMessage: 1,
    inFlight: WINDOW,
    framesPerSecond: Math.round(acked / ((stopAt - t0) / 1000)),
    ackLatencyUs: { p50: usAt(h, 50), p99: usAt(h, 99), p999: usAt(h, 99.9) },
  };
}

async function persistence(): Promise<{ rows: PersistRow[]; natsConfig: string }> {
  const rows: PersistRow[] = [];
  progress("persistence: nats JetStream file store");
  const { result: nats, config } = await withNats((n) => natsAcked(n));
  rows.push({
    ...nats,
    label: "JetStream file store, js.publish",
    durability: "page cache; fsync on JetStream's own timer (2.9 default), not per publish",
  });
  // Smoke: only tickring's default policy, to keep CI short.
  for (const fsync of smoke ? (["batch"] as const) : (["os", "batch"] as const)) {
    for (const perMessage of [1, 100]) {
      progress(`persistence: tickring --fsync ${fsync}, ${perMessage} tick(s) per message`);
      const r = await withDaemon(["--fsync", fsync], (d) => tickringAcked(d.port, perMessage));
      rows.push({
        ...r,
        label: `tickring ingest --fsync ${fsync}`,
        durability:
          fsync === "os"
            ? "page cache; ack after write(), no fsync (the OS flushes)"
            : "ack after fdatasync, group commit every ≤ 2 ms",
      });
    }
  }
  return { rows, natsConfig: config };
}

// ---------------------------------------------------------------------------------------------------
// Replay: REPLAY_FRAMES stored ticks read from the start by one client.

/** One replay row of the JSON result (bench/report renders it). */
export type ReplayRun = Omit<ClientReplayRun, "endMs">;

async function tickringReplay(): Promise<ReplayRun> {
  return withDaemon(["--fsync", "os"], async (d) => {
    // Fill through ingest, 1,000 ticks per message, until the last ack.
    const ws = await openWs(`ws://127.0.0.1:${d.port}/v1/ingest`);
    await new Promise<void>((resolve, reject) => {
      ws.on("message", (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as { op: string; seq?: number };
        if (msg.op === "error") reject(new Error(`ingest error: ${data}`));
        else if (msg.op === "ack" && msg.seq === REPLAY_FRAMES) resolve();
      });
      for (let k = 0; k < REPLAY_FRAMES;) {
        const parts: Buffer[] = [];
        for (let i = 0; i < 1000 && k < REPLAY_FRAMES; i++) parts.push(tick(k++));
        ws.send(Buffer.concat(parts));
      }
    });
    ws.close();
    const run = await replayToDone(d.port, { from: { seq: 1 }, to: { seq: REPLAY_FRAMES }, speed: "max" });
    return { frames: run.frames, framesPerSecond: run.framesPerSecond, firstFrameMs: run.firstFrameMs };
  });
}

/** `maxMessages`: the ordered consumer's pull batch (nats.js default 100). */
async function natsReplay(n: NatsServer, maxMessages: number): Promise<ReplayRun> {
  const { nc, js } = await natsClient(n);
  // Fill with core publishes into the stream's subjects, then wait until the stream holds them all.
  for (let k = 0; k < REPLAY_FRAMES; k++) {
    nc.publish(`hist.${SYMBOLS[k % SYMBOLS.length]}`, tick(k));
    if (k % 10_000 === 9_999) await nc.flush();
  }
  await nc.flush();
  const jsm = await nc.jetstreamManager();
  for (let i = 0; (await jsm.streams.info(STREAM)).state.messages < REPLAY_FRAMES; i++) {
    if (i > 1000) throw new Error("JetStream did not store every message within 10 s");
    await new Promise((r) => setTimeout(r, 10));
  }
  const consumer = await js.consumers.get(STREAM); // ordered consumer, deliver all, from the start
  const start = performance.now();
  let first = 0;
  let frames = 0;
  const messages = await consumer.consume({ max_messages: maxMessages });
  for await (const m of messages) {
    if (first === 0) first = performance.now();
    for (let off = 0; off < m.data.length; off += frameLength(m.data, off)) frames++;
    if (m.seq === REPLAY_FRAMES) break;
  }
  const end = performance.now();
  await nc.close();
  return {
    frames,
    framesPerSecond: Math.round(frames / ((end - start) / 1000)),
    firstFrameMs: Math.round((first - start) * 100) / 100,
  };
}

async function replay(): Promise<{
  frames: number;
  tickring: ReplayRun;
  nats: ReplayRun;
  natsBatch1000: ReplayRun;
}> {
  progress(`replay ${REPLAY_FRAMES} frames: tickring`);
  const tickring = await tickringReplay();
  progress(`replay ${REPLAY_FRAMES} frames: nats ordered consumer (default pull batch 100)`);
  const { result: nats } = await withNats((n) => natsReplay(n, 100));
  progress(`replay ${REPLAY_FRAMES} frames: nats ordered consumer (pull batch 1000)`);
  const { result: natsBatch1000 } = await withNats((n) => natsReplay(n, 1000));
  for (const [name, r] of [
    ["tickring", tickring],
    ["nats", nats],
    ["nats (batch 1000)", natsBatch1000],
  ] as const) {
    if (r.frames !== REPLAY_FRAMES)
      throw new Error(`${name} replayed ${r.frames} of ${REPLAY_FRAMES} frames`);
  }
  return { frames: REPLAY_FRAMES, tickring, nats, natsBatch1000 };
}

// ---------------------------------------------------------------------------------------------------

const fan = await fanout();
const persist = await persistence();
const rep = await replay();
const nats = {
  version,
  config: persist.natsConfig,
  settings: {
    core: "defaults; subscribers on the WebSocket listener (no TLS, no compression), publisher on TCP",
    jetstream: `stream ${STREAM}: file storage, 1 replica, limits retention, defaults otherwise`,
    fsync:
      "nats-server 2.9 has no sync_interval option: the file store writes to the page cache and syncs on its own timer",
    client: "nats.js 2.x (npm nats) for JetStream; fan-out speaks the protocol over ws/net directly",
    orderedConsumer:
      "js.consumers.get(stream).consume(): the client's default pull batch (max_messages 100), and 1000",
  },
};
const settings = {
  seconds,
  window: WINDOW,
  replayFrames: REPLAY_FRAMES,
  tickringWorkers: values.workers,
};
const r2 = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 100) / 100);
if (values.json) {
  console.log(
    JSON.stringify({
      bench: "peers",
      available: true,
      machine,
      nats,
      settings,
      results: { fanout: fan, persistence: persist.rows, replay: rep },
    }),
  );
} else {
  console.log(`peers — ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, nats-server ${version}`);
  console.log("fan-out (delivered frames/s, latency µs p50/p99/p99.9):");
  for (const r of fan) {
    const t = r.tickring;
    const n = r.nats;
    console.log(
      `  ${r.scenario.padEnd(20)} tickring ${t.deliveredPerSecond} ${t.latencyUs.p50}/${t.latencyUs.p99}/${t.latencyUs.p999}` +
        ` | nats ${n.deliveredPerSecond} ${n.latencyUs.p50}/${n.latencyUs.p99}/${n.latencyUs.p999}` +
        ` | p50 tickring/nats ${r2(t.latencyUs.p50, n.latencyUs.p50)}, p99 ${r2(t.latencyUs.p99, n.latencyUs.p99)}`,
    );
  }
  console.log(`persistence (acked frames/s, ${WINDOW} ticks in flight):`);
  const js = persist.rows[0].framesPerSecond;
  for (const r of persist.rows) {
    console.log(
      `  ${r.label.padEnd(34)} ${String(r.ticksPerMessage).padStart(3)}/msg × ${String(r.inFlight).padStart(3)} ${String(r.framesPerSecond).padStart(9)}/s` +
        `  ack p50 ${r.ackLatencyUs.p50} µs p99 ${r.ackLatencyUs.p99} µs  (÷ JetStream ${r2(r.framesPerSecond, js)})`,
    );
  }
  console.log(
    `replay ${rep.frames} frames: tickring ${rep.tickring.framesPerSecond}/s (first ${rep.tickring.firstFrameMs} ms)` +
      ` | nats ordered consumer ${rep.nats.framesPerSecond}/s (first ${rep.nats.firstFrameMs} ms)` +
      `, pull batch 1000: ${rep.natsBatch1000.framesPerSecond}/s` +
      ` | ratio ${r2(rep.tickring.framesPerSecond, rep.nats.framesPerSecond)} / ${r2(rep.tickring.framesPerSecond, rep.natsBatch1000.framesPerSecond)}`,
  );
}
