/**
 * Replication benchmark: tickring nodes replicating through NATS JetStream — a leader (`--replicate`) and a
 * follower (`--follow`) on one machine — beside a single node, in the same run:
 *
 * - latency: ticks published to the leader at a fixed rate, received by subscribers on the follower
 *   (ingest → leader → JetStream → follower → client), HDR percentiles from each tick's intended send time
 *   (bench/e2e/load-group.ts); a single node publishes and serves on itself;
 * - ingest: the leader's acked ticks/s from one windowed publisher, acks after the local fsync
 *   (`--ack-after durable`) and after JetStream's acknowledgement too (`replicated`);
 * - catch-up: a fresh follower reading a stream of `--frames` frames: its sustained applied frames/s;
 * - failover: a leader under ingest (`--ack-after replicated`) and a standby; kill -9 of the leader, then
 *   the time until the standby acks a publisher.
 *
 *   node dist/bench/replication/replication.bench.js [flags]   (flags: bench/catalog.ts, or --help)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { type DaemonProcess, spawnDaemon } from "../../src/daemon/child-process.js";
import { REPLICATION, TOPOLOGIES } from "../catalog.js";
import { startNatsCluster } from "../cluster/nats-cluster.js";
import { type LoadResult, runLoadGroup } from "../e2e/load-group.js";
import { publishWindowed, type WindowedRun } from "../e2e/window-publisher.js";
import { until } from "./poll.js";
import { benchFlags } from "../flags.js";
import { natsServerVersion, startNats } from "../peers/nats-server.js";

const values = benchFlags(REPLICATION);
const seconds = values.smoke ? 0.5 : values.duration;
const warmupS = values.smoke ? 0.2 : 1;
const catchUpFrames = values.smoke ? 20_000 : values.frames;
const failovers = values.smoke ? Math.min(1, values.failovers) : values.failovers;
const SUBSCRIBE = '{"op":"subscribe","id":1,"symbols":["*"]}';

const version = natsServerVersion();
if (version === null) {
  process.stderr.write(
    "replication: nats-server is not installed (sh bench/peers/install.sh): nothing to run\n",
  );
  process.exit(0);
}

type Topology = (typeof TOPOLOGIES)[number];
const REPLICAS: Record<Topology, number> = { single: 0, r1: 1, r3: 3 };

/** NATS for a topology: none, one server, or a 3-server cluster. */
interface Nats {
  url: string;
  pids: number[];
  layout: string;
  stop(): Promise<void>;
}

async function natsFor(t: Topology): Promise<Nats | undefined> {
  if (t === "single") return undefined;
  if (t === "r1") {
    const s = await startNats();
    const stop = () => s.stop().catch(() => {});
    return { url: s.url, pids: [s.pid], layout: `1 nats-server (${s.url})`, stop };
  }
  const c = await startNatsCluster(3);
  return {
    url: c.url,
    pids: c.servers.map((s) => s.pid),
    layout: `3 nats-servers clustered on loopback (${c.url}), routes between all`,
    stop: () => c.stop(),
  };
}

/** A tickring node on a fresh data dir, removed when it stops. */
interface Node {
  d: DaemonProcess;
  ingest: string;
  feed: string;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** Nodes running now: a benchmark that fails stops them on its way out. */
const running = new Set<Node>();

async function node(args: string[]): Promise<Node> {
  const data = mkdtempSync(join(tmpdir(), "tickring-repl-"));
  const d = await spawnDaemon([
    "--port",
    "0",
    "--data",
    data,
    "--workers",
    String(values.workers),
    "--fsync",
    "batch",
    ...args,
  ]);
  const base = `ws://127.0.0.1:${d.port}`;
  const n: Node = {
    d,
    ingest: `${base}/v1/ingest`,
    feed: `${base}/v1/feed`,
    stop: async () => {
      running.delete(n);
      await d.stop();
      rmSync(data, { recursive: true, force: true });
    },
    kill: async () => {
      running.delete(n);
      await d.kill();
      rmSync(data, { recursive: true, force: true });
    },
  };
  running.add(n);
  return n;
}

/** Stats of a node over HTTP. */
async function stats(
  n: Node,
): Promise<{ seq: { written: number }; replication?: { role: string; replicatedSeq: number } }> {
  const res = await fetch(`http://127.0.0.1:${n.d.port}/v1/stats`);
  return (await res.json()) as {
    seq: { written: number };
    replication?: { role: string; replicatedSeq: number };
  };
}

/** Waits for `check` (every 20 ms, for at most 2 minutes: a catch-up of many frames takes a while). */
const waitFor = (check: () => Promise<boolean> | boolean, what: string) => until(check, what, 120_000, 20);

const leading = (n: Node) =>
  waitFor(() => n.d.logs.some((l) => l.msg === "leading: taking ingest"), "a leader");

/** The flags of a leader candidate of `stream` on `nats`. */
const candidate = (nats: Nats, t: Topology, stream: string) => [
  "--replicate",
  nats.url,
  "--stream",
  stream,
  "--stream-replicas",
  String(REPLICAS[t]),
];

/** A leader on `stream` of `nats` with `args`, leading. */
async function leader(nats: Nats, t: Topology, stream: string, args: string[] = []): Promise<Node> {
  const n = await node([...candidate(nats, t, stream), ...args]);
  await leading(n);
  return n;
}

function ingestRun(url: string): Promise<WindowedRun> {
  const endNs = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  return publishWindowed({ url, format: "flatbuffers", batch: 100, window: 2000, endNs });
}

interface TopologyResult {
  topology: Topology;
  layout: string;
  latency: LoadResult;
  ingestDurable: WindowedRun;
  ingestReplicated: WindowedRun | null;
  catchUp: { frames: number; seconds: number; framesPerSecond: number } | null;
  failoverMs: number[];
}

async function latencyRun(publishTo: Node, subscribeTo: Node, pids: number[]): Promise<LoadResult> {
  return runLoadGroup({
    system: "tickring",
    ingest: publishTo.ingest,
    feed: subscribeTo.feed,
    clients: values.clients,
    rate: values.rate,
    procs: 1,
    seconds,
    warmupS,
    subscribe: SUBSCRIBE,
    cpuPids: pids,
  });
}

async function single(): Promise<TopologyResult> {
  const n = await node([]);
  try {
    const latency = await latencyRun(n, n, [n.d.child.pid!]);
    const ingestDurable = await ingestRun(n.ingest);
    return {
      topology: "single",
      layout: "one tickring, no replication",
      latency,
      ingestDurable,
      ingestReplicated: null,
      catchUp: null,
      failoverMs: [],
    };
  } finally {
    await n.stop();
  }
}

async function replicated(t: Topology, nats: Nats): Promise<TopologyResult> {
  const lead = await leader(nats, t, "lat");
  const follow = await node(["--follow", nats.url, "--stream", "lat"]);
  let latency: LoadResult;
  try {
    latency = await latencyRun(lead, follow, [lead.d.child.pid!, follow.d.child.pid!, ...nats.pids]);
  } finally {
    await follow.stop();
  }
  // The two ingest runs alike: a leader and NATS, no follower (it would share the cores).
  const ingestDurable = await ingestRun(lead.ingest);
  // Catch-up: the stream holds at least --frames frames; a fresh follower reads them all.
  let catchUp: TopologyResult["catchUp"];
  try {
    const written = (await stats(lead)).seq.written;
    if (written < catchUpFrames) {
      await publishWindowed({
        url: lead.ingest,
        format: "flatbuffers",
        batch: 100,
        window: 2000,
        ticks: catchUpFrames - written,
      });
    }
    const target = (await stats(lead)).seq.written;
    await waitFor(
      async () => (await stats(lead)).replication!.replicatedSeq >= target,
      "the stream to hold every frame",
    );
    catchUp = await catchUpRun(nats, target);
  } finally {
    await lead.stop();
  }
  const acking = await leader(nats, t, "ack", ["--ack-after", "replicated"]);
  let ingestReplicated: WindowedRun;
  try {
    ingestReplicated = await ingestRun(acking.ingest);
  } finally {
    await acking.stop();
  }
  const failoverMs: number[] = [];
  for (let i = 0; i < failovers; i++) failoverMs.push(await failover(nats, t, `failover${i}`));
  return {
    topology: t,
    layout: `${nats.layout}, R${REPLICAS[t]} stream`,
    latency,
    ingestDurable,
    ingestReplicated,
    catchUp,
    failoverMs,
  };
}

/**
 * A fresh follower of stream "lat" reads `target` frames: applied frames/s from the moment it serves (it joins
 * the stream then) to its last frame. Timed from its first applied frame instead, a small stream could be read
 * whole before the first poll and count 0 frames (seen with --smoke's 20,000).
 */
async function catchUpRun(nats: Nats, target: number): Promise<TopologyResult["catchUp"]> {
  const f = await node(["--follow", nats.url, "--stream", "lat"]);
  try {
    const first = { at: performance.now(), seq: 0 }; // a fresh follower: an empty data dir
    await waitFor(async () => (await stats(f)).seq.written >= target, "the follower to catch up");
    const s = (performance.now() - first.at) / 1000;
    const frames = target - first.seq;
    return { frames, seconds: Math.round(s * 1000) / 1000, framesPerSecond: Math.round(frames / s) };
  } finally {
    await f.stop();
  }
}

/**
 * A leader (--ack-after replicated) under ingest and a standby; kill -9 of the leader; ms until the standby
 * acks a publisher that sends to it one message at a time.
 */
async function failover(nats: Nats, t: Topology, stream: string): Promise<number> {
  const lead = await leader(nats, t, stream, ["--ack-after", "replicated"]);
  const standby = await node([...candidate(nats, t, stream), "--standby", "--ack-after", "replicated"]);
  try {
    await waitFor(async () => (await stats(standby)).replication?.role === "standby", "the standby");
    // Publishes until the leader dies (its run never settles then: nothing waits for it).
    const endNs = process.hrtime.bigint() + 10n ** 12n;
    void publishWindowed({ url: lead.ingest, format: "flatbuffers", batch: 10, window: 200, endNs }).catch(
      () => {},
    );
    await new Promise((r) => setTimeout(r, 1000));
    await lead.kill();
    const killedAt = performance.now();
    await firstAck(standby.ingest);
    return Math.round(performance.now() - killedAt);
  } finally {
    await standby.stop();
  }
}

/** Resolves at the first ack from `url`, sending one tick at a time (each after the previous reply). */
async function firstAck(url: string): Promise<void> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const send = () => ws.send('[{"type":"trade","symbol":"FAILOVER","price":1,"size":1}]');
  try {
    await new Promise<void>((resolve) => {
      ws.on("message", (d: Buffer) => {
        if (d.toString().startsWith('{"op":"ack"')) resolve();
        else setTimeout(send, 10);
      });
      send();
    });
  } finally {
    ws.close();
  }
}

const load = () => loadavg().map((x) => Math.round(x * 100) / 100);
const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? "unknown",
  node: process.version,
  natsServer: version,
  workers: values.workers,
  loadAvgBefore: load(),
  loadAvgAfter: [] as number[],
};
const results: TopologyResult[] = [];
for (const t of values.only) {
  process.stderr.write(`replication: ${t} …`);
  const nats = await natsFor(t);
  try {
    results.push(nats === undefined ? await single() : await replicated(t, nats));
  } finally {
    await Promise.all([...running].map((n) => n.kill()));
    await nats?.stop();
  }
  process.stderr.write(" done\n");
}
machine.loadAvgAfter = load();

if (values.json) {
  console.log(
    JSON.stringify({
      bench: "replication",
      machine,
      seconds,
      warmupS,
      rate: values.rate,
      clients: values.clients,
      results,
    }),
  );
} else {
  console.log(
    `replication — ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, nats-server ${version}, ` +
      `load average ${machine.loadAvgBefore.join(" ")} before, ${machine.loadAvgAfter.join(" ")} after; ` +
      `tickring --workers ${values.workers} --fsync batch; ${seconds}s per run`,
  );
  for (const r of results) console.log(`  ${r.topology}: ${r.layout}`);
  console.log(
    `topology | latency @ ${values.rate / 1000}K/s p50 µs | p99 µs | p99.9 µs | ingest acked/s (durable) | ack p99 µs | acked/s (replicated) | ack p99 µs | catch-up frames/s | failover ms`,
  );
  for (const r of results) {
    const l = r.latency.latencyUs;
    const row = [
      r.topology,
      l.p50,
      l.p99,
      l.p999,
      r.ingestDurable.ackedPerSecond,
      r.ingestDurable.ackLatencyUs.p99,
      r.ingestReplicated?.ackedPerSecond ?? "–",
      r.ingestReplicated?.ackLatencyUs.p99 ?? "–",
      r.catchUp?.framesPerSecond ?? "–",
      r.failoverMs.length === 0 ? "–" : r.failoverMs.join(", "),
    ];
    console.log(row.join(" | "));
  }
  console.log(
    "latency: single = ingest → node → client; r1/r3 = ingest → leader → JetStream → follower → client.",
  );
}
