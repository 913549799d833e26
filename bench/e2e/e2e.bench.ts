/**
 * End-to-end benchmark: ingest → client receive latency (HDR, from each tick's intended send time) and
 * delivered frames/s, at 10K and 100K ticks/s with 1 and 100 clients and at saturation; each scenario
 * against tickring and against the baseline (a `ws` server fed by `postMessage`,
 * bench/e2e/baseline-server.ts), in the same run. The clients are spread over load processes
 * (load-group.ts); servers and load processes share this machine's cores.
 *
 *   node dist/bench/e2e/e2e.bench.js [flags]   (flags: bench/catalog.ts, or --help)
 *
 * --only matches the scenario label ("100 clients @ 10K/s"); --clients/--rate replace the scenario list
 * with that one scenario; --url loads a daemon that is already running (no spawn, no baseline).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { mintToken } from "../../src/auth/token.js";
import { spawnDaemon } from "../../src/daemon/child-process.js";
import { E2E } from "../catalog.js";
import { benchFlags } from "../flags.js";
import { defaultProcs, type LoadResult, runLoadGroup } from "./load-group.js";

const values = benchFlags(E2E);
const only = values.only;
const seconds = values.smoke ? 0.3 : values.duration;
const warmupS = values.smoke ? 0.1 : 0.5;
const BASELINE = new URL("./baseline-server.js", import.meta.url).pathname;
const SUBSCRIBE = '{"op":"subscribe","id":1,"symbols":["*"]}';

interface Scenario {
  clients: number;
  /** Ticks per second; 0 = saturation. */
  rate: number;
}

function scenarioList(): Scenario[] {
  if (values.clients !== undefined || values.rate !== undefined) {
    return [{ clients: values.clients ?? 1, rate: values.rate ?? 10_000 }];
  }
  if (values.smoke)
    return [
      { clients: 2, rate: 10_000 },
      { clients: 2, rate: 0 },
    ];
  return [
    { clients: 1, rate: 10_000 },
    { clients: 100, rate: 10_000 },
    { clients: 1, rate: 100_000 },
    { clients: 100, rate: 100_000 },
    { clients: 1, rate: 0 },
    { clients: 100, rate: 0 },
  ];
}

const procsFor = (s: Scenario) =>
  values.procs !== undefined ? values.procs : values.smoke ? 2 : defaultProcs(s.clients);

/** One load run; the CPU of `cpuPids` (the server's process) is measured over the measured window. */
function load(
  system: "tickring" | "baseline",
  ingest: string,
  feed: string,
  s: Scenario,
  cpuPids?: number[],
) {
  return runLoadGroup({
    cpuPids,
    system,
    ingest,
    feed,
    clients: s.clients,
    rate: s.rate,
    procs: procsFor(s),
    seconds,
    warmupS,
    subscribe: system === "tickring" ? SUBSCRIBE : undefined,
  });
}

/** The transport each spawned daemon served on, from its ready line ("uws (@trufflesuite/…)", "ws (ws)"). */
const served: Record<string, string> = {};

/** tickring on `transport` (the daemon's default when undefined: native uWS where a build loads). */
async function onTickring(s: Scenario, transport?: "ws"): Promise<LoadResult> {
  if (values.url !== undefined) {
    const base = values.url.replace(/\/$/, "");
    return load("tickring", `${base}/v1/ingest`, `${base}/v1/feed`, s);
  }
  const data = mkdtempSync(join(tmpdir(), "tickring-e2e-"));
  const auth = values.auth === undefined ? undefined : await authFor(data, values.auth);
  const daemon = await spawnDaemon([
    "--port",
    "0",
    "--data",
    join(data, "data"),
    "--workers",
    String(values.workers),
    "--bars",
    values.bars,
    ...(auth?.args ?? []),
    ...(transport === undefined ? [] : ["--transport", transport]),
  ]);
  served[transport ?? "default"] = String(daemon.logs.find((l) => l.msg === "tickring serving")?.transport);
  try {
    const base = `ws://127.0.0.1:${daemon.port}`;
    const query = auth === undefined ? "" : `?token=${auth.token}`;
    // The daemon's CPU over the window: a paced scenario's work is fixed, so its CPU compares runs (auth on
    // and off, say) on a machine too busy for latency to.
    return await load("tickring", `${base}/v1/ingest${query}`, `${base}/v1/feed${query}`, s, [
      daemon.child.pid!,
    ]);
  } finally {
    await daemon.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

/**
 * `--auth PATTERNS`: a secret in `dir` for the daemon, and the token every load process presents (on the
 * URL): ingest, and real-time symbols PATTERNS.
 */
async function authFor(dir: string, patterns: string): Promise<{ args: string[]; token: string }> {
  // Text, as `openssl rand -base64 48` writes it: the daemon leaves trailing whitespace out of the file.
  const secret = new TextEncoder().encode(
    Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64"),
  );
  const file = join(dir, "secret");
  writeFileSync(file, secret, { mode: 0o600 });
  const claim = { ingest: true, realtime: patterns.split(",") };
  const token = await mintToken(secret, { sub: "bench", claim, ttlMs: 24 * 3_600_000 });
  return { args: ["--auth-secret-file", file], token };
}

async function onBaseline(s: Scenario): Promise<LoadResult> {
  const child: ChildProcess = spawn(process.execPath, [BASELINE], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const ports = await new Promise<{ ingestPort: number; feedPort: number }>((resolve) =>
      createInterface({ input: child.stdout! }).once("line", (l) => resolve(JSON.parse(l))),
    );
    return await load(
      "baseline",
      `ws://127.0.0.1:${ports.ingestPort}`,
      `ws://127.0.0.1:${ports.feedPort}`,
      s,
      [child.pid!],
    );
  } finally {
    child.kill("SIGTERM");
  }
}

const label = (s: Scenario) =>
  `${s.clients} client${s.clients > 1 ? "s" : ""} @ ${s.rate === 0 ? "saturation" : `${s.rate / 1000}K/s`}`;
/**
 * Per scenario: tickring on its default transport, tickring on the ws transport (what it costs where no
 * native uWS loads; null when the default already is ws, with --url, or with --no-ws), the baseline.
 */
const results: {
  scenario: string;
  tickring: LoadResult;
  tickringWs: LoadResult | null;
  baseline: LoadResult | null;
}[] = [];
const chosen = scenarioList().filter((s) => only.test(label(s)));
for (const [i, s] of chosen.entries()) {
  process.stderr.write(`e2e ${i + 1}/${chosen.length}: ${label(s)} … tickring`);
  const tickring = await onTickring(s);
  let tickringWs: LoadResult | null = null;
  let baseline: LoadResult | null = null;
  if (values.url === undefined) {
    if (!values["no-ws"] && !served.default.startsWith("ws ")) {
      process.stderr.write(", tickring ws");
      tickringWs = await onTickring(s, "ws");
    }
    process.stderr.write(", baseline");
    baseline = await onBaseline(s);
  }
  process.stderr.write(" done\n");
  results.push({ scenario: label(s), tickring, tickringWs, baseline });
}

const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? "unknown",
  node: process.version,
  workers: values.url === undefined ? values.workers : null,
  target: values.url ?? "spawned",
  /** The transport of the "tickring" rows. */
  transport: values.url === undefined ? served.default : null,
  auth: values.auth ?? null,
};
const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 100) / 100);
if (values.json) {
  console.log(JSON.stringify({ bench: "e2e", machine, seconds, warmupS, results }));
} else {
  console.log(
    `e2e — ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, ${seconds}s per run, ` +
      (values.url === undefined
        ? `tickring --workers ${machine.workers}, transport ${machine.transport}`
        : `against ${values.url}`) +
      (values.auth === undefined ? "" : `, auth on (token realtime ${values.auth})`),
  );
  console.log(
    "scenario                 | system      | procs | delivered/s | p50 µs | p99 µs | p99.9 µs | server CPU | client CPU (max of procs)",
  );
  for (const r of results) {
    const sides: [string, LoadResult][] = [["tickring", r.tickring]];
    if (r.tickringWs !== null) sides.push(["tickring ws", r.tickringWs]);
    if (r.baseline !== null) sides.push(["baseline", r.baseline]);
    for (const [name, x] of sides) {
      console.log(
        `${r.scenario.padEnd(24)} | ${name.padEnd(11)} | ${String(x.procs).padStart(5)} | ${String(x.deliveredPerSecond).padStart(11)} | ${String(x.latencyUs.p50).padStart(6)} | ${String(x.latencyUs.p99).padStart(6)} | ${String(x.latencyUs.p999).padStart(8)} | ${String(x.serverCpu[0] ?? "").padStart(10)} | ${x.clientCpu}`,
      );
    }
    if (r.baseline !== null) {
      const b = r.baseline;
      console.log(
        `${"".padEnd(24)} | ratio       |       | ${String(ratio(r.tickring.deliveredPerSecond, b.deliveredPerSecond)).padStart(11)} | ${String(ratio(r.tickring.latencyUs.p50, b.latencyUs.p50)).padStart(6)} | ${String(ratio(r.tickring.latencyUs.p99, b.latencyUs.p99)).padStart(6)} | ${String(ratio(r.tickring.latencyUs.p999, b.latencyUs.p999)).padStart(8)} |`,
      );
    }
  }
  if (values.url === undefined) {
    console.log("ratio = tickring / baseline (delivered: higher is better; latency: lower is better).");
    console.log(
      "tickring ws = the same daemon with --transport ws (what it costs where no native uWS loads).",
    );
  }
  console.log("server CPU = cores the server process used over the measured window, all threads.");
  console.log("client CPU near 1.0 = a load process, not the server, was the limit.");
}
