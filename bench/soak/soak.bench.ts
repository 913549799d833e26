/**
 * The soak benchmark: the real daemon (a child process, default limits, `--fsync batch`, a temp data dir)
 * under a steady normal load for a baseline phase, then under the same load plus hostile clients for a
 * phase of the same length. It reports what the hardening issue asks: daemon crashes, acked ticks lost or
 * duplicated (history replayed from seq 1 with the real client at the end), the daemon's RSS peak, and the
 * p99 of the normal subscribers in each phase and their ratio — and what the hostile clients got back.
 *
 *   node dist/bench/soak/soak.bench.js [flags]   (flags: bench/catalog.ts, or --help)
 *
 * Processes: this coordinator (spawns, watches the daemon through /proc and HTTP, checks history);
 * normal.ts (the publisher and the 10 measured subscribers); one process per hostile load
 * (hostile/*.ts), each connecting from its own loopback address.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { defaultServeOptions } from "../../src/config/options.js";
import { type DaemonProcess, spawnDaemon } from "../../src/daemon/child-process.js";
import { HOSTILE_LOADS, SOAK } from "../catalog.js";
import { benchFlags } from "../flags.js";
import { Child, hrNow, type Schedule, sleep, sleepUntil } from "./child.js";
import { checkHistory, type HistoryCheck } from "./history-check.js";
import type { ChurnResult } from "./hostile/churn.js";
import type { FuzzResult } from "./hostile/fuzz.js";
import type { ReplayStormResult } from "./hostile/replay-storm.js";
import type { Target as SocketTarget } from "./hostile/sockets.js";
import type { StalledResult } from "./hostile/stalled.js";
import type { SymbolsResult } from "./hostile/symbols.js";
import { mergeHistograms, percentiles } from "./latency.js";
import type { NormalResult, PhaseName } from "./normal.js";
import { DaemonProbe, daemonCounters, memoryOf, metricValues, type ProbePhase, scrape } from "./probe.js";
import {
  type HostileOutcome,
  type PhaseFigures,
  reportText,
  type SoakReport,
  type Target,
} from "./report.js";
import type { Counts } from "./tally.js";

const values = benchFlags(SOAK);
const seconds = values.smoke ? 2 : values.duration;
const warmupSeconds = values.smoke ? 0.5 : 2;
const seed = values.seed ?? Math.floor(Math.random() * 2 ** 31);
const smoke = values.smoke;
const defaults = defaultServeOptions();
const RATE = 10_000;
const SYMBOLS = Array.from({ length: 50 }, (_, i) => `N${String(i).padStart(2, "0")}`);
const DAEMON_ARGS = ["--fsync", "batch"];
/** The issue's churn: 10,000 connections in a 60 s phase; shorter phases get their share. */
const CHURN_PER_SECOND = 10_000 / 60;
const RSS_TARGET_MIB = 1024;
const P99_TARGET_RATIO = 1.1;
/** Results are awaited this long after the end (the publisher waits up to 10 s for acks). */
const RESULT_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

function progress(text: string): void {
  process.stderr.write(`soak: ${text}\n`);
}

/** Each hostile load runs in its own process from its own loopback address. */
function startHostile(name: (typeof HOSTILE_LOADS)[number], port: number): Child<unknown> {
  const target = (n: number): SocketTarget => ({ port, from: `127.0.0.${n}` });
  const script = (file: string) => new URL(`./hostile/${file}`, import.meta.url);
  switch (name) {
    case "fuzz":
      return new Child(name, script("fuzz.js"), {
        target: target(2),
        seed,
        ingestConnections: 2,
        feedConnections: 2,
        rate: smoke ? 50 : 100,
      });
    case "stalled":
      return new Child(name, script("stalled.js"), {
        target: target(3),
        perPolicy: smoke ? 3 : 50,
        publishers: 2,
        slowloris: smoke ? 5 : 100,
      });
    case "churn":
      return new Child(name, script("churn.js"), {
        target: target(4),
        seed: seed + 1,
        total: Math.round(CHURN_PER_SECOND * seconds),
        perAddressLimit: defaults.maxConnectionsPerIp,
        symbols: SYMBOLS,
      });
    case "replays":
      return new Child(name, script("replay-storm.js"), {
        target: target(5),
        seed: seed + 2,
        connections: smoke ? 4 : 70,
        perConnection: defaults.maxReplays,
      });
    case "symbols":
      return new Child(name, script("symbols.js"), {
        target: target(6),
        rate: smoke ? 500 : 2000,
        atLimits: smoke ? 1 : 4,
        maxSubscriptions: defaults.maxSubscriptions,
        maxSymbols: defaults.maxSymbols,
      });
  }
}

/** The value, or the error's message, within `ms`. */
async function settle<T>(p: Promise<T>, ms: number): Promise<{ value?: T; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${ms} ms`)), ms);
  });
  try {
    return { value: await Promise.race([p, timeout]) };
  } catch (err) {
    return { error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

const errors: string[] = [];
const exits: string[] = [];
let phase: ProbePhase = "setup";
let stopping = false;
const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
const data = mkdtempSync(join(tmpdir(), "tickring-soak-"));

function watch(d: DaemonProcess): void {
  d.child.once("exit", (code, signal) => {
    if (!stopping) exits.push(`${signal ?? `exit ${code}`} during ${phase}`);
  });
}

let daemon = await spawnDaemon(["--port", "0", "--data", data, ...DAEMON_ARGS]);
watch(daemon);
const probe = new DaemonProbe(daemon.child.pid!, daemon.port);
progress(`daemon pid ${daemon.child.pid} on port ${daemon.port}, data in ${data}; seed ${seed}`);

const normal = new Child<NormalResult>("normal", new URL("./normal.js", import.meta.url), {
  port: daemon.port,
  rate: RATE,
  symbols: SYMBOLS,
});
const hostiles = values.hostile.map((name) => startHostile(name, daemon.port));
const children: Child<unknown>[] = [normal, ...hostiles];
try {
  await Promise.all(children.map((c) => c.ready));
} catch (err) {
  for (const c of children) c.kill();
  await daemon.kill();
  throw err;
}

const t0 = hrNow() + 500_000_000n;
const phaseNs = BigInt(Math.round(seconds * 1e9));
const baselineNs = t0 + BigInt(Math.round(warmupSeconds * 1e9));
const schedule: Schedule = {
  startNs: String(t0),
  baselineNs: String(baselineNs),
  hostileNs: String(baselineNs + phaseNs),
  endNs: String(baselineNs + 2n * phaseNs),
};
for (const c of children) c.go(schedule);
await sleepUntil(baselineNs);
phase = "baseline";
probe.mark(phase);
progress(`baseline phase: normal load only, ${seconds} s`);
await sleepUntil(BigInt(schedule.hostileNs));
phase = "hostile";
probe.mark(phase);
progress(`hostile phase: normal load and ${values.hostile.join(", ") || "nothing"}, ${seconds} s`);
await sleepUntil(BigInt(schedule.endNs));
phase = "after";
probe.mark(phase);
progress("collecting results");

const normalOut = await settle(normal.result, RESULT_TIMEOUT_MS);
if (normalOut.error !== undefined) errors.push(`normal: ${normalOut.error}`);
const hostileOut = await Promise.all(hostiles.map((h) => settle(h.result, RESULT_TIMEOUT_MS)));
for (const c of children) c.kill();

// Every client has left: what the daemon still holds, and whether its workers ever failed.
await sleep(1000);
let workerFailures: number | null = null;
let connectionsAfter: number | null = null;
let counters: Counts = {};
try {
  const text = await scrape(daemon.port);
  workerFailures = metricValues(text, "tickring_worker_failures_total").reduce((a, b) => a + b, 0);
  connectionsAfter = metricValues(text, "tickring_connections").reduce((a, b) => a + b, 0);
  counters = daemonCounters(text);
} catch (err) {
  errors.push(`/metrics after the run: ${(err as Error).message}`);
}
const rssAfterMiB = memoryOf(daemon.child.pid!)?.rss ?? null;

const published = normalOut.value?.publisher;
let history: HistoryCheck | null = null;
if (published !== undefined) {
  if (exits.length > 0) {
    // The daemon died: what it acked must have survived. Check on a fresh daemon over the same data.
    progress("the daemon exited: restarting it on the same data to check history");
    daemon = await spawnDaemon(["--port", "0", "--data", data, ...DAEMON_ARGS]);
    watch(daemon);
  }
  progress(`checking history: ${published.acked.length / 3} acked messages`);
  history = await checkHistory(daemon.port, published.acked, published.ticksSent, SYMBOLS, 300_000);
}
const memory = probe.stop();
// Again once history was read: a daemon still working off a backlog may not have seen every close above.
let connectionsAtEnd: number | null = null;
await sleep(1000); // workers publish their counts every 200 ms; the history client has just left
try {
  connectionsAtEnd = metricValues(await scrape(daemon.port), "tickring_connections").reduce(
    (a, b) => a + b,
    0,
  );
} catch (err) {
  errors.push(`/metrics at the end: ${(err as Error).message}`);
}

stopping = true;
const stopStart = performance.now();
const stopped = await settle(daemon.stop(), STOP_TIMEOUT_MS);
const stop = {
  code: stopped.error !== undefined ? "hang" : String(stopped.value),
  ms: Math.round(performance.now() - stopStart),
};
if (stopped.error !== undefined) await daemon.kill();
rmSync(data, { recursive: true, force: true });

// Warnings and errors the daemon logged, by message.
const logs: Counts = {};
for (const entry of daemon.logs) {
  if (typeof entry.level === "number" && entry.level >= 40) {
    const key = `${entry.level >= 50 ? "error" : "warn"}: ${String(entry.msg)}`;
    logs[key] = (logs[key] ?? 0) + 1;
  }
}

function phaseFigures(name: PhaseName): PhaseFigures {
  const subs = normalOut.value?.subscribers ?? [];
  const replays = normalOut.value?.replays[name] ?? { counts: {}, doneMs: [] };
  const done = [...replays.doneMs].sort((a, b) => a - b);
  const ack = published === undefined ? [] : [published.ackLatency[name]];
  return {
    frames: subs.reduce((n, s) => n + s.phases[name].frames, 0),
    expectedFrames: subs.reduce((n, s) => n + Math.round(RATE * seconds * s.share), 0),
    fromRecvUs: percentiles(mergeHistograms(subs.map((s) => s.phases[name].fromRecv))),
    fromEventUs: percentiles(mergeHistograms(subs.map((s) => s.phases[name].fromEvent))),
    ackUs: percentiles(mergeHistograms(ack)),
    subscribers: subs.map((s) => {
      const p = percentiles(mergeHistograms([s.phases[name].fromRecv]));
      return { name: s.name, frames: s.phases[name].frames, p50: p.p50, p99: p.p99 };
    }),
    replays: {
      counts: replays.counts,
      doneMsP50: done.length === 0 ? null : done[Math.floor(done.length / 2)],
      doneMsMax: done.length === 0 ? null : done[done.length - 1],
    },
    daemon: memory.phases[name] ?? null,
  };
}

const phases = { baseline: phaseFigures("baseline"), hostile: phaseFigures("hostile") };
const ratioOf = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 100) / 100);
const ratio = {
  p50: ratioOf(phases.hostile.fromRecvUs.p50, phases.baseline.fromRecvUs.p50),
  p99: ratioOf(phases.hostile.fromRecvUs.p99, phases.baseline.fromRecvUs.p99),
};

const hostile: HostileOutcome[] = hostiles.map((h, i) => {
  const out = hostileOut[i];
  if (out.value === undefined) return { name: h.name, summary: {}, counts: {}, error: out.error };
  const {
    counts,
    suspicious: _s,
    beforeRefusal: _b,
    ...summary
  } = out.value as { counts: Counts } & Partial<
    FuzzResult & StalledResult & ChurnResult & ReplayStormResult & SymbolsResult
  >;
  return { name: h.name, summary, counts };
});
const fuzz = hostileOut[values.hostile.indexOf("fuzz")]?.value as FuzzResult | undefined;
const suspicious = [
  ...(fuzz?.suspicious ?? []),
  ...(fuzz?.beforeRefusal ?? []).map((x) => ({ ...x, beforeRefusal: true })),
];

const subs = normalOut.value?.subscribers ?? [];
const subscriberCounts: Counts = {};
for (const s of subs) {
  for (const [k, v] of Object.entries(s.counts)) {
    if (k !== "control → subscribed") subscriberCounts[k] = (subscriberCounts[k] ?? 0) + v;
  }
}

const targets: Target[] = [
  {
    name: "daemon crashes",
    target: "0",
    value: `${exits.length} exits, ${workerFailures ?? "unknown"} worker failures`,
    met: exits.length === 0 && workerFailures === 0,
  },
  {
    name: "acked ticks lost or duplicated",
    target: "0",
    value:
      history === null
        ? "not checked"
        : `${history.lost} lost, ${history.duplicated} duplicated, ${history.misplaced} misplaced of ${history.ackedTicks.toLocaleString("en-US")} (replay ${history.ended})`,
    met:
      history !== null &&
      history.ended === "done" &&
      history.lost + history.duplicated + history.misplaced === 0 &&
      history.ackedTicks > 0,
  },
  {
    name: "daemon RSS peak",
    target: `< ${RSS_TARGET_MIB} MiB`,
    value: `VmHWM ${memory.vmHwmMiB} MiB (sampled max ${memory.rssMaxMiB} MiB)`,
    met: memory.vmHwmMiB < RSS_TARGET_MIB,
  },
  {
    name: "p99 of the 10 normal subscribers, hostile ÷ baseline",
    target: `≤ ${P99_TARGET_RATIO}`,
    value: `${ratio.p99 ?? "–"} (${phases.hostile.fromRecvUs.p99} µs ÷ ${phases.baseline.fromRecvUs.p99} µs)`,
    met: ratio.p99 !== null && ratio.p99 <= P99_TARGET_RATIO,
  },
];

const report: SoakReport = {
  bench: "soak",
  machine: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? "unknown",
    node: process.version,
    memGiB: Math.round(totalmem() / 2 ** 30),
    loadAtStart,
    loadAtEnd: loadavg().map((l) => Math.round(l * 100) / 100),
  },
  settings: {
    secondsPerPhase: seconds,
    warmupSeconds,
    seed,
    hostile: values.hostile,
    normalRate: RATE,
    normalSymbols: SYMBOLS.length,
    daemonArgs: DAEMON_ARGS,
  },
  phases,
  ratio,
  daemon: {
    exits,
    workerFailures,
    rssMaxMiB: memory.rssMaxMiB,
    vmHwmMiB: memory.vmHwmMiB,
    rssAfterMiB: rssAfterMiB === null ? null : Math.round(rssAfterMiB),
    connectionsAfter,
    connectionsAtEnd,
    counters,
    setup: memory.phases.setup ?? null,
    after: memory.phases.after ?? null,
    stop,
    logs,
  },
  normal:
    normalOut.value === undefined || published === undefined
      ? null
      : {
          ticksSent: published.ticksSent,
          ticksAcked: history?.ackedTicks ?? 0,
          publisherProblems: published.problems,
          unanswered: published.unanswered,
          missing: subs.reduce((n, s) => n + s.missing, 0),
          duplicates: subs.reduce((n, s) => n + s.duplicates, 0),
          gapSeqs: subs.reduce((n, s) => n + s.gapSeqs, 0),
          negativeLatencies: subs.reduce((n, s) => n + s.negative, 0),
          subscriberCounts,
          cpu: normalOut.value.cpu,
        },
  history,
  hostile,
  suspicious,
  targets,
  errors,
};
console.log(values.json ? JSON.stringify(report) : reportText(report));
