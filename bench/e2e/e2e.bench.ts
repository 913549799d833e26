/**
 * End-to-end benchmark: ingest → client receive latency (p50/p99/p99.9, HDR) at 10K and 100K ticks/s
 * with 1 and 100 clients, and delivered frames/s at saturation; each scenario against tickring and
 * against the baseline (a `ws` server fed by `postMessage`, bench/e2e/baseline-server.ts), in the same
 * run. Servers and the load process are separate processes on this machine's cores.
 *
 *   node dist/bench/e2e/e2e.bench.js [--duration 3] [--json] [--smoke] [--workers 2] [--only REGEX]
 *   (--only matches the scenario label, e.g. "100 clients @ 10K")
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { spawnDaemon } from "../../src/daemon/child-process.js";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "3" },
    json: { type: "boolean", default: false },
    smoke: { type: "boolean", default: false },
    workers: { type: "string", default: "2" },
    only: { type: "string", default: "" },
  },
});
const only = new RegExp(values.only);
const seconds = values.smoke ? 0.5 : Number(values.duration);
const LOAD = new URL("./load.js", import.meta.url).pathname;
const BASELINE = new URL("./baseline-server.js", import.meta.url).pathname;

interface Scenario {
  clients: number;
  /** Ticks per second; 0 = saturation. */
  rate: number;
}

const scenarios: Scenario[] = values.smoke
  ? [
      { clients: 2, rate: 10_000 },
      { clients: 2, rate: 0 },
    ]
  : [
      { clients: 1, rate: 10_000 },
      { clients: 100, rate: 10_000 },
      { clients: 1, rate: 100_000 },
      { clients: 100, rate: 100_000 },
      { clients: 1, rate: 0 },
      { clients: 100, rate: 0 },
    ];

interface LoadResult {
  clients: number;
  rate: number;
  sent: number;
  seconds: number;
  deliveredPerSecond: number;
  perClientPerSecond: number;
  latencyUs: { p50: number; p99: number; p999: number; max: number };
  samples: number;
  clientCpu: number;
}

async function runLoad(ingest: string, feed: string, s: Scenario, subscribe?: string): Promise<LoadResult> {
  const args = [
    LOAD,
    "--ingest",
    ingest,
    "--feed",
    feed,
    "--clients",
    String(s.clients),
    "--rate",
    String(s.rate),
  ];
  args.push("--seconds", String(seconds), "--warmup", values.smoke ? "0.2" : "0.5");
  if (subscribe !== undefined) args.push("--subscribe", subscribe);
  const out = execFileSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split("\n").pop()!) as LoadResult;
}

async function onTickring(s: Scenario): Promise<LoadResult> {
  const data = mkdtempSync(join(tmpdir(), "tickring-e2e-"));
  const daemon = await spawnDaemon(["--port", "0", "--data", data, "--workers", values.workers]);
  try {
    const base = `ws://127.0.0.1:${daemon.port}`;
    return await runLoad(
      `${base}/v1/ingest`,
      `${base}/v1/feed`,
      s,
      '{"op":"subscribe","id":1,"symbols":["*"]}',
    );
  } finally {
    await daemon.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

async function onBaseline(s: Scenario): Promise<LoadResult> {
  const child: ChildProcess = spawn(process.execPath, [BASELINE], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const ports = await new Promise<{ ingestPort: number; feedPort: number }>((resolve) =>
      createInterface({ input: child.stdout! }).once("line", (l) => resolve(JSON.parse(l))),
    );
    return await runLoad(`ws://127.0.0.1:${ports.ingestPort}`, `ws://127.0.0.1:${ports.feedPort}`, s);
  } finally {
    child.kill("SIGTERM");
  }
}

const label = (s: Scenario) =>
  `${s.clients} client${s.clients > 1 ? "s" : ""} @ ${s.rate === 0 ? "saturation" : `${s.rate / 1000}K/s`}`;
const results: { scenario: string; tickring: LoadResult; baseline: LoadResult }[] = [];
const chosen = scenarios.filter((s) => only.test(label(s)));
for (const [i, s] of chosen.entries()) {
  process.stderr.write(`e2e ${i + 1}/${chosen.length}: ${label(s)} … tickring`);
  const tickring = await onTickring(s);
  process.stderr.write(", baseline");
  const baseline = await onBaseline(s);
  process.stderr.write(" done\n");
  results.push({ scenario: label(s), tickring, baseline });
}

const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? "unknown",
  node: process.version,
  workers: Number(values.workers),
};
const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 100) / 100);
if (values.json) {
  console.log(JSON.stringify({ bench: "e2e", machine, seconds, results }));
} else {
  console.log(
    `e2e — ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, ${seconds}s per run, tickring --workers ${machine.workers}`,
  );
  console.log("scenario                 | system   | delivered/s | p50 µs | p99 µs | p99.9 µs | client CPU");
  for (const r of results) {
    for (const [name, x] of [
      ["tickring", r.tickring],
      ["baseline", r.baseline],
    ] as const) {
      console.log(
        `${r.scenario.padEnd(24)} | ${name.padEnd(8)} | ${String(x.deliveredPerSecond).padStart(11)} | ${String(x.latencyUs.p50).padStart(6)} | ${String(x.latencyUs.p99).padStart(6)} | ${String(x.latencyUs.p999).padStart(8)} | ${x.clientCpu}`,
      );
    }
    console.log(
      `${"".padEnd(24)} | ratio    | ${String(ratio(r.tickring.deliveredPerSecond, r.baseline.deliveredPerSecond)).padStart(11)} | ${String(ratio(r.tickring.latencyUs.p50, r.baseline.latencyUs.p50)).padStart(6)} | ${String(ratio(r.tickring.latencyUs.p99, r.baseline.latencyUs.p99)).padStart(6)} | ${String(ratio(r.tickring.latencyUs.p999, r.baseline.latencyUs.p999)).padStart(8)} |`,
    );
  }
  console.log("ratio = tickring / baseline (delivered: higher is better; latency: lower is better).");
  console.log("client CPU near 1.0 = the load process, not the server, was the limit.");
}
