/**
 * tickring next to NATS (Debian's nats-server, installed by bench/peers/install.sh), tried the way a
 * user choosing between them would: the same trades, JSON on both sides (and binary FlatBuffers frames
 * on both sides, a second table), every message parsed or decoded by its client, NATS driven the way
 * its own clients drive it. Three paths, each for both formats:
 *
 * - fan-out: 20 WebSocket subscribers to every symbol in 2 load processes (bench/e2e's), one publisher
 *   sending batches of 100 trades as fast as acks allow with at most 2,000 ticks unacked — tickring
 *   `/v1/ingest` → `/v1/feed` against NATS core (TCP publisher, one `PUB` per trade and a `PING` per
 *   batch → subscribers on its WebSocket listener); delivered frames/s over the measured window;
 * - durable ingest from one connection, at most 2,000 ticks unacked: tickring arrays of 100 trades per
 *   message against JetStream's file store published asynchronously (one trade per message, PubAcks on
 *   a reply subject, jetstream.ts); acked ticks/s;
 * - replay of 200K stored trades from seq 1: tickring's historical feed at `speed:"max"` against a
 *   JetStream ordered consumer; frames/s.
 *
 * tickring runs twice per comparison: `--fsync os` (the durability JetStream 2.9 gives: ack after the
 * write, no fsync) and `--fsync batch` (its default: ack after fdatasync). Every server is fresh per
 * run; the CPU of the server process is read from /proc over the measured window.
 *
 *   node dist/bench/peers/peers.bench.js [flags]   (flags: bench/catalog.ts, or --help)
 *
 * Without nats-server on the PATH it says so and exits 0 (JSON: `"available": false`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { type DaemonProcess, spawnDaemon } from "../../src/daemon/child-process.js";
import { PEERS } from "../catalog.js";
import { type LoadResult, runLoadGroup } from "../e2e/load-group.js";
import { cpuMeter } from "../e2e/proc-cpu.js";
import type { TickFormat } from "../e2e/ticks.js";
import { publishWindowed, type WindowedRun } from "../e2e/window-publisher.js";
import { benchFlags } from "../flags.js";
import { replayToDone } from "../replay/replay-client.js";
import { connectJetStream, publishAsync, replayOrdered, STREAM } from "./jetstream.js";
import type { NatsConnection } from "nats";
import { natsServerVersion, type NatsServer, startNats } from "./nats-server.js";
import {
  type Fsync,
  FSYNCS,
  type PeerComparison,
  type PeerRun,
  type PeersSettings,
  peerTables,
  type ReplayDetail,
} from "./results.js";

const values = benchFlags(PEERS);
const smoke = values.smoke;
const settings: PeersSettings = {
  // A smoke window of 1 s: at 0.3 s a machine at load 10+ sometimes delivered nothing inside it (NATS too), and the
  // report's smoke test failed for want of a figure.
  seconds: smoke ? 1 : values.duration,
  warmupS: smoke ? 0.3 : 0.5,
  clients: smoke ? 2 : values.clients,
  procs: values.procs,
  window: values.window,
  batch: values.batch,
  replayFrames: smoke ? 2_000 : values.frames,
  workers: values.workers ?? null,
};
const paths = values.only;
const formats = values.formats;
/** Smoke runs check the plumbing: tickring's default policy only (the `os` rows say "not run"). */
const fsyncs: readonly Fsync[] = smoke ? ["batch"] : FSYNCS;

const progress = (text: string) => process.stderr.write(`peers: ${text}\n`);
const load1 = () => Math.round(loadavg()[0] * 100) / 100;

const version = natsServerVersion();
const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? "unknown",
  memoryGB: Math.round(totalmem() / 1e9),
  node: process.version,
  loadAvgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
};
if (version === null) {
  const reason = "nats-server is not installed (run bench/peers/install.sh): peer comparisons skipped";
  if (values.json) console.log(JSON.stringify({ bench: "peers", available: false, reason, machine }));
  else console.log(`peers: ${reason}`);
  process.exit(0);
}

/**
 * A fresh server per run, stopped after it — except in smoke mode, where one daemon and one nats-server
 * serve every run (they check the plumbing, in seconds) and are stopped at the end.
 */
function serverOf<S>(start: () => Promise<S>, stop: (s: S) => Promise<unknown>) {
  let shared: S | null = null;
  return {
    async with<T>(run: (s: S) => Promise<T>): Promise<T> {
      if (smoke) return run((shared ??= await start()));
      const server = await start();
      try {
        return await run(server);
      } finally {
        await stop(server);
      }
    },
    async close(): Promise<void> {
      if (shared !== null) await stop(shared);
    },
  };
}

const daemons = new Map<Fsync, ReturnType<typeof serverOf<DaemonProcess & { data: string }>>>();
function withDaemon<T>(fsync: Fsync, run: (d: DaemonProcess) => Promise<T>): Promise<T> {
  let server = daemons.get(fsync);
  if (server === undefined) {
    server = serverOf(
      async () => {
        const data = mkdtempSync(join(tmpdir(), "tickring-peers-"));
        const args = ["--port", "0", "--data", data, "--fsync", fsync];
        if (settings.workers !== null) args.push("--workers", String(settings.workers));
        return { ...(await spawnDaemon(args)), data };
      },
      async (d) => {
        await d.stop();
        rmSync(d.data, { recursive: true, force: true });
      },
    );
    daemons.set(fsync, server);
  }
  return server.with(run);
}

let natsConfig = "";
const natsServers = serverOf(
  async () => {
    const server = await startNats();
    natsConfig = server.config;
    return server;
  },
  (n) => n.stop(),
);
const withNats = <T>(run: (n: NatsServer) => Promise<T>) => natsServers.with(run);

/** Runs `measure` while metering `pid`'s CPU; the load average is taken before. */
async function metered<D>(pid: number, measure: () => Promise<D>, perSecond: (d: D) => number) {
  const loadAvg = load1();
  const meter = cpuMeter([pid]);
  const detail = await measure();
  return { perSecond: perSecond(detail), serverCpu: meter.stop()[0], loadAvg, detail };
}

const secondsFromNow = (s: number) => process.hrtime.bigint() + BigInt(Math.round(s * 1e9));

/** tickring's runs of one comparison, one per policy (null: not run, in smoke mode). */
async function tickringRuns<D>(
  run: (fsync: Fsync) => Promise<PeerRun<D>>,
): Promise<Record<Fsync, PeerRun<D> | null>> {
  const out: Record<Fsync, PeerRun<D> | null> = { os: null, batch: null };
  for (const f of fsyncs) out[f] = await run(f);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Fan-out

async function fanout(format: TickFormat): Promise<PeerComparison> {
  const common = {
    clients: settings.clients,
    procs: settings.procs,
    rate: 0,
    window: settings.window,
    batch: settings.batch,
    seconds: settings.seconds,
    warmupS: settings.warmupS,
    format,
    decode: true,
  };
  const asRun = (r: LoadResult, loadAvg: number): PeerRun<LoadResult> => ({
    perSecond: r.deliveredPerSecond,
    serverCpu: r.serverCpu[0],
    loadAvg,
    detail: r,
  });
  progress(`fan-out ${format}: nats core`);
  const nats = await withNats(async (n) => {
    const loadAvg = load1();
    const r = await runLoadGroup({
      ...common,
      system: "nats",
      ingest: n.url,
      feed: n.wsUrl,
      cpuPids: [n.pid],
    });
    return asRun(r, loadAvg);
  });
  const tickring = await tickringRuns((fsync) => {
    progress(`fan-out ${format}: tickring --fsync ${fsync}`);
    return withDaemon(fsync, async (d) => {
      const loadAvg = load1();
      const r = await runLoadGroup({
        ...common,
        system: "tickring",
        ingest: `ws://127.0.0.1:${d.port}/v1/ingest`,
        feed: `ws://127.0.0.1:${d.port}/v1/feed`,
        subscribe: JSON.stringify({ op: "subscribe", id: 1, symbols: ["*"], format }),
        cpuPids: [d.child.pid!],
      });
      return asRun(r, loadAvg);
    });
  });
  return { path: "fanout", format, nats, tickring };
}

// ---------------------------------------------------------------------------------------------------
// Durable ingest: a warm-up, then `seconds` of publishing with at most `window` ticks unacked.

async function ingest(format: TickFormat): Promise<PeerComparison> {
  progress(`ingest ${format}: JetStream, asynchronous publishes`);
  const nats = await withNats(async (n) => {
    const nc = await connectJetStream(n.url);
    try {
      const o = { format, window: settings.window };
      return await ingestRun(
        n.pid,
        () => storedMessages(nc),
        (endNs) => publishAsync(nc, { ...o, endNs }),
      );
    } finally {
      await nc.close();
    }
  });
  const tickring = await tickringRuns((fsync) => {
    progress(`ingest ${format}: tickring --fsync ${fsync}`);
    return withDaemon(fsync, (d) => {
      const url = `ws://127.0.0.1:${d.port}/v1/ingest`;
      const o = { url, format, batch: settings.batch, window: settings.window };
      return ingestRun(
        d.child.pid!,
        () => durableSeq(d.port),
        (endNs) => publishWindowed({ ...o, endNs }),
      );
    });
  });
  return { path: "ingest", format, nats, tickring };
}

/**
 * A warm-up, then `seconds` of publishing, metered; the acks counted must match what the server says
 * it stored (`stored()`, read before and after), or the run fails.
 */
async function ingestRun(
  pid: number,
  stored: () => Promise<number>,
  publish: (endNs: bigint) => Promise<WindowedRun>,
): Promise<PeerRun<WindowedRun>> {
  const before = await stored();
  const warm = await publish(secondsFromNow(settings.warmupS));
  const run = await metered(
    pid,
    () => publish(secondsFromNow(settings.seconds)),
    (r) => r.ackedPerSecond,
  );
  const added = (await stored()) - before;
  if (added !== warm.acked + run.detail.acked) {
    throw new Error(
      `the server stored ${added} ticks, the publisher counted ${warm.acked + run.detail.acked} acks`,
    );
  }
  return run;
}

/** The daemon's highest durable seq (its `/healthz`). */
async function durableSeq(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return ((await res.json()) as { seq: number }).seq;
}

async function storedMessages(nc: NatsConnection): Promise<number> {
  return (await (await nc.jetstreamManager()).streams.info(STREAM)).state.messages;
}

// ---------------------------------------------------------------------------------------------------
// Replay: `replayFrames` trades stored (not measured), then read from the start by one client.

function checkFrames(who: string, frames: number): void {
  if (frames !== settings.replayFrames)
    throw new Error(`${who} replayed ${frames} of ${settings.replayFrames} frames`);
}

async function replay(format: TickFormat): Promise<PeerComparison> {
  const N = settings.replayFrames;
  const perSecond = (r: ReplayDetail & { framesPerSecond: number }) => r.framesPerSecond;
  progress(`replay ${format}: JetStream ordered consumer`);
  const { nats, natsPull1000 } = await withNats(async (n) => {
    const nc = await connectJetStream(n.url);
    try {
      await publishAsync(nc, { format, window: settings.window, ticks: N });
      const first = await metered(n.pid, () => replayOrdered(nc, format, N), perSecond);
      checkFrames(`JetStream (${STREAM})`, first.detail.frames);
      if (smoke) return { nats: first, natsPull1000: undefined };
      const second = await metered(n.pid, () => replayOrdered(nc, format, N, 1000), perSecond);
      checkFrames(`JetStream (${STREAM}, pull batch 1000)`, second.detail.frames);
      return { nats: first, natsPull1000: second };
    } finally {
      await nc.close();
    }
  });
  const tickring = await tickringRuns((fsync) => {
    progress(`replay ${format}: tickring --fsync ${fsync}`);
    return withDaemon(fsync, async (d) => {
      const url = `ws://127.0.0.1:${d.port}/v1/ingest`;
      await publishWindowed({ url, format, batch: settings.batch, window: settings.window, ticks: N });
      const request = { from: { seq: 1 }, to: { seq: N }, speed: "max", format };
      const run = await metered(
        d.child.pid!,
        () => replayToDone(d.port, request, { decode: true }),
        perSecond,
      );
      checkFrames("tickring", run.detail.frames);
      return run;
    });
  });
  return { path: "replay", format, nats, tickring, natsPull1000 };
}

// ---------------------------------------------------------------------------------------------------

const RUN = { fanout, ingest, replay };
const results: PeerComparison[] = [];
try {
  for (const path of paths) for (const format of formats) results.push(await RUN[path](format));
} finally {
  await natsServers.close();
  for (const d of daemons.values()) await d.close();
}

const nats = {
  version,
  config: natsConfig,
  settings: {
    core: "defaults; subscribers on the WebSocket listener (no TLS, no compression), publisher on TCP",
    jetstream: `stream ${STREAM}: file storage, 1 replica, limits retention, defaults otherwise`,
    fsync:
      "nats-server 2.9 has no sync_interval option: the file store writes to the page cache and syncs on its own timer",
    clients:
      "nats.js 2.x (npm nats) for JetStream: publishes with a reply subject, PubAcks counted; ordered consumer. " +
      "Fan-out publisher and subscribers speak the protocol over net/ws directly (bench/peers/nats-protocol.ts)",
  },
};
if (values.json) {
  console.log(JSON.stringify({ bench: "peers", available: true, machine, nats, settings, results }));
} else {
  console.log(
    `peers — ${machine.cpus} × ${machine.cpu}, ${machine.memoryGB} GB, Node ${machine.node}, nats-server ${version}, ` +
      `load average ${machine.loadAvgAtStart.join(" ")} at the start`,
  );
  console.log(
    `settings: ${settings.clients} subscribers in ${settings.procs} load processes, ${settings.batch} ticks per batch, ` +
      `≤ ${settings.window} ticks unacked, ${settings.seconds} s measured after ${settings.warmupS} s warm-up, ` +
      `tickring --workers ${settings.workers ?? "default"}; CPU = cores used by the server process over the measured window`,
  );
  for (const t of peerTables(results, settings)) console.log(`\n${t.title}\n\n${t.md}`);
}
