/**
 * `tickring bench report`: runs a chosen set of benchmarks (each as `<name>.bench.js --json`, one after
 * the other so they do not share the cores), then writes `report.md` with tables, SVG plots (charts.ts)
 * and `results.json` (every benchmark's own JSON) into `bench/results/<UTC date-time>/` or `--out`.
 *
 *   node dist/bench/report/report.js [flags]   (flags: bench/catalog.ts, or --help)
 *
 * A benchmark that fails is reported as failed (its stderr tail in the report) and the others still run;
 * the exit code is then 1. Figures are only ever what the run printed.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { REPORT, REPORTED } from "../catalog.js";
import { benchFlags } from "../flags.js";
import { PATHS } from "../catalog.js";
import { FSYNCS, type PeerComparison, type PeersSettings, peerTables } from "../peers/results.js";
import { fmt, ratio, table } from "./markdown.js";
import { type Bar, type CurvePoint, latencyCurves, percentileLabel, throughputBars } from "./charts.js";

export type BenchName = (typeof REPORTED)[number];
/** Benchmarks whose `--duration` is seconds per scenario (replay has none; recovery's is a time-out). */
export const TAKES_DURATION: ReadonlySet<string> = new Set(["ring", "storage", "e2e", "peers"]);

const here = dirname(fileURLToPath(import.meta.url));
const benchDir = resolve(here, ".."); // dist/bench
const repoRoot = resolve(here, "../../..");

const values = benchFlags(REPORT);
const chosen = values.only;
const started = new Date();
const stamp = started
  .toISOString()
  .replace(/:/g, "-")
  .replace(/\.\d+Z$/, "Z");
const outDir = resolve(
  values.out ?? join(repoRoot, "bench/results", values.smoke ? `${stamp}-smoke` : stamp),
);
mkdirSync(outDir, { recursive: true });

interface Run {
  name: string;
  args: string[];
  ok: boolean;
  seconds: number;
  json?: Record<string, unknown>;
  error?: string;
}

/** Runs one benchmark; its stderr (progress) passes through, prefixed with the report's progress. */
function runBench(name: string, index: number): Promise<Run> {
  const script = join(benchDir, name, `${name}.bench.js`);
  const args = ["--json"];
  if (values.smoke) args.push("--smoke");
  if (values.duration !== undefined && TAKES_DURATION.has(name))
    args.push("--duration", String(values.duration));
  process.stderr.write(`report ${index + 1}/${chosen.length}: ${name} ${args.join(" ")}\n`);
  const t0 = performance.now();
  return new Promise((resolveRun) => {
    if (!existsSync(script)) {
      resolveRun({ name, args, ok: false, seconds: 0, error: `${script} not built (npm run build)` });
      return;
    }
    const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d;
      process.stderr.write(d);
    });
    child.on("exit", (code, signal) => {
      const seconds = Math.round((performance.now() - t0) / 100) / 10;
      const line = stdout
        .trim()
        .split("\n")
        .reverse()
        .find((l) => l.startsWith("{"));
      let json: Record<string, unknown> | undefined;
      try {
        json = line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
      } catch {
        json = undefined;
      }
      const ok = code === 0 && json !== undefined;
      const error = ok
        ? undefined
        : `exit ${code ?? signal}; stderr: ${stderr.trim().split("\n").slice(-8).join("\n")}`;
      process.stderr.write(
        `report ${index + 1}/${chosen.length}: ${name} ${ok ? "done" : "FAILED"} in ${seconds} s\n`,
      );
      resolveRun({ name, args, ok, seconds, json, error });
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// Markdown helpers

interface Section {
  md: string;
  charts: { file: string; svg: Promise<string> }[];
}

function img(file: string, alt: string): string {
  return `![${alt}](${file})\n`;
}

// ---------------------------------------------------------------------------------------------------
// Per-benchmark sections (fields as each benchmark prints them with --json)

interface Load {
  procs: number;
  deliveredPerSecond: number;
  latencyUs: { p50: number; p90?: number; p99: number; p999: number; max: number };
  percentileCurveUs?: [number, number][];
  clientCpu: number;
}

function curve(series: string, l: Load): CurvePoint[] {
  if (l.percentileCurveUs !== undefined)
    return l.percentileCurveUs.map(([p, us]) => ({ series, percentile: percentileLabel(p), us }));
  return [
    { series, percentile: "p50", us: l.latencyUs.p50 },
    { series, percentile: "p99", us: l.latencyUs.p99 },
    { series, percentile: "p99.9", us: l.latencyUs.p999 },
    { series, percentile: "max", us: l.latencyUs.max },
  ];
}

function e2eSection(j: Record<string, unknown>): Section {
  const results = j.results as {
    scenario: string;
    tickring: Load;
    tickringWs?: Load | null;
    baseline: Load | null;
  }[];
  const rows: unknown[][] = [];
  const points: CurvePoint[] = [];
  const bars: Bar[] = [];
  for (const r of results) {
    for (const [system, l] of [
      ["tickring", r.tickring],
      ["tickring ws", r.tickringWs ?? null],
      ["baseline", r.baseline],
    ] as const) {
      if (l === null) continue;
      rows.push([
        r.scenario,
        system,
        l.procs,
        l.deliveredPerSecond,
        l.latencyUs.p50,
        l.latencyUs.p99,
        l.latencyUs.p999,
        l.latencyUs.max,
        l.clientCpu,
      ]);
      if (!r.scenario.includes("saturation")) points.push(...curve(`${system} · ${r.scenario}`, l));
      bars.push({ group: r.scenario, system, value: l.deliveredPerSecond });
    }
    if (r.baseline !== null)
      rows.push([
        "",
        "**ratio** t/b",
        "",
        ratio(r.tickring.deliveredPerSecond, r.baseline.deliveredPerSecond),
        ratio(r.tickring.latencyUs.p50, r.baseline.latencyUs.p50),
        ratio(r.tickring.latencyUs.p99, r.baseline.latencyUs.p99),
        ratio(r.tickring.latencyUs.p999, r.baseline.latencyUs.p999),
        "",
        "",
      ]);
  }
  const machine = j.machine as Record<string, unknown>;
  let md = `Ingest → receive latency from each tick's intended send time, ${fmt(j.seconds)} s measured per run after ${fmt(j.warmupS)} s of warm-up; tickring ${machine.target === "spawned" ? `spawned with --workers ${machine.workers} (transport ${machine.transport}; "tickring ws": the same with --transport ws)` : `at ${machine.target}`}; baseline = \`ws\` server + \`postMessage\` (bench/e2e/baseline-server.ts). Ratio = tickring ÷ baseline (delivered: higher is better; latency: lower is better). Client CPU = the busiest load process's share of one core.\n\n`;
  md += table(
    [
      "scenario",
      "system",
      "load procs",
      "delivered fr/s",
      "p50 µs",
      "p99 µs",
      "p99.9 µs",
      "max µs",
      "client CPU",
    ],
    rows,
  );
  md += `\n${img("e2e-latency.svg", "e2e latency percentiles")}${img("e2e-throughput.svg", "e2e delivered frames/s")}`;
  return {
    md,
    charts: [
      {
        file: "e2e-latency.svg",
        svg: latencyCurves("e2e: ingest → receive latency (paced scenarios)", points),
      },
      {
        file: "e2e-throughput.svg",
        svg: throughputBars("e2e: delivered frames/s (all clients)", "frames/s", bars),
      },
    ],
  };
}

function peersSection(j: Record<string, unknown>): Section {
  if (j.available === false) return { md: `**Not run**: ${j.reason}\n`, charts: [] };
  const nats = j.nats as { version: string; config: string; settings: Record<string, string> };
  const settings = j.settings as PeersSettings;
  const results = j.results as PeerComparison[];
  let md = `Peer: **nats-server ${nats.version}** (Debian package), started for each run on free loopback ports with this configuration (the store dir is a fresh temp dir):\n\n\`\`\`\n${nats.config.trim()}\n\`\`\`\n\n`;
  for (const [k, v] of Object.entries(nats.settings)) md += `- ${k}: ${v}\n`;
  md += `- run settings: ${JSON.stringify(settings)}\n`;
  for (const t of peerTables(results, settings)) md += `\n### ${t.title}\n\n${t.md}`;
  const charts = PATHS.filter((path) => results.some((c) => c.path === path)).map((path) => {
    const bars: Bar[] = results
      .filter((c) => c.path === path)
      .flatMap((c) => [
        ...FSYNCS.flatMap((f) => {
          const t = c.tickring[f];
          return t === null ? [] : [{ group: c.format, system: `tickring --fsync ${f}`, value: t.perSecond }];
        }),
        { group: c.format, system: "NATS", value: c.nats.perSecond },
      ]);
    return {
      file: `peers-${path}.svg`,
      svg: throughputBars(`${PATH_TITLE[path]}, per second`, "per second", bars),
    };
  });
  md += `\n${charts.map((c) => img(c.file, c.file)).join("")}`;
  return { md, charts };
}

const PATH_TITLE = {
  fanout: "fan-out: delivered frames",
  ingest: "durable ingest: acked ticks",
  replay: "replay: frames",
};

interface RingSide {
  deliveredPerSecond: number;
  lostRatio: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

function ringSection(j: Record<string, unknown>): Section {
  const results = j.results as {
    frame: string;
    frameBytes: number;
    consumers: number;
    mode: string;
    throughputRatio: number;
    ring: RingSide;
    postMessage: RingSide;
  }[];
  const rows = results.map((r) => [
    `${r.frame} ${r.frameBytes}B`,
    r.consumers,
    r.mode,
    r.ring.deliveredPerSecond,
    r.postMessage.deliveredPerSecond,
    r.throughputRatio,
    `${fmt(r.ring.p50Us)} / ${fmt(r.ring.p99Us)} / ${fmt(r.ring.p999Us)}`,
    `${fmt(r.postMessage.p50Us)} / ${fmt(r.postMessage.p99Us)} / ${fmt(r.postMessage.p999Us)}`,
    ratio(r.ring.p99Us, r.postMessage.p99Us),
  ]);
  const points: CurvePoint[] = [];
  const bars: Bar[] = [];
  for (const r of results) {
    const label = `${r.frame} ×${r.consumers}`;
    for (const [system, s] of [
      ["ring", r.ring],
      ["postMessage", r.postMessage],
    ] as const) {
      if (r.mode.startsWith("paced"))
        points.push(
          ...[
            ["p50", s.p50Us],
            ["p99", s.p99Us],
            ["p99.9", s.p999Us],
            ["max", s.maxUs],
          ].map(([percentile, us]) => ({
            series: `${system} · ${label}`,
            percentile: percentile as string,
            us: us as number,
          })),
        );
      else bars.push({ group: label, system, value: s.deliveredPerSecond });
    }
  }
  let md = `Settings: ${JSON.stringify(j.settings)}. thr × = ring ÷ postMessage frames/s.\n\n`;
  md += table(
    [
      "frame",
      "consumers",
      "mode",
      "ring fr/s",
      "post fr/s",
      "thr ×",
      "ring p50/p99/p99.9 µs",
      "post p50/p99/p99.9 µs",
      "p99 ring/post",
    ],
    rows,
  );
  md += `\n${img("ring-latency.svg", "ring latency")}${img("ring-throughput.svg", "ring throughput")}`;
  return {
    md,
    charts: [
      {
        file: "ring-latency.svg",
        svg: latencyCurves("ring vs postMessage: one-way latency, paced 100K/s", points),
      },
      {
        file: "ring-throughput.svg",
        svg: throughputBars("ring vs postMessage: unpaced frames/s per consumer", "frames/s", bars),
      },
    ],
  };
}

function storageSection(j: Record<string, unknown>): Section {
  const wal = j.wal as {
    name: string;
    framesPerSecond: number;
    mbPerSecond: number;
    rawMbPerSecond: number;
    ratioToRaw: number;
    fsyncP50Us: number;
    fsyncP99Us: number;
  }[];
  const store = j.store as { name: string; framesPerSecond: number; mbPerSecond: number }[];
  const paced = j.paced as Record<string, number> | undefined;
  let md = `Settings: ${JSON.stringify(j.settings)}.\n\n`;
  md += table(
    ["scenario", "frames/s", "MB/s", "raw MB/s", "WAL ÷ raw", "fdatasync p50 / p99 µs"],
    wal.map((w) => [
      w.name,
      w.framesPerSecond,
      w.mbPerSecond,
      w.rawMbPerSecond,
      w.ratioToRaw,
      `${fmt(w.fsyncP50Us)} / ${fmt(w.fsyncP99Us)}`,
    ]),
  );
  if (paced !== undefined)
    md += `\nPaced ${paced.name}: ${fmt(paced.framesPerSecond)} frames/s, fdatasync p50 ${fmt(paced.fsyncP50Us)} µs p99 ${fmt(paced.fsyncP99Us)} µs, append → durable p50 ${fmt(paced.ackP50Us)} µs p99 ${fmt(paced.ackP99Us)} µs.\n\n`;
  md += table(
    ["store scenario", "frames/s", "MB/s"],
    store.map((s) => [s.name, s.framesPerSecond, s.mbPerSecond]),
  );
  md += `\n${img("storage-throughput.svg", "storage frames/s")}`;
  const bars: Bar[] = [
    ...wal.map((w) => ({ group: w.name, system: "WAL append", value: w.framesPerSecond })),
    ...store.map((s) => ({ group: s.name, system: "store", value: s.framesPerSecond })),
  ];
  return {
    md,
    charts: [{ file: "storage-throughput.svg", svg: throughputBars("storage: frames/s", "frames/s", bars) }],
  };
}

function replaySection(j: Record<string, unknown>): Section {
  const r = j.results as Record<string, Record<string, number | null>>;
  let md = table(
    ["source", "frames", "replay fr/s", "first frame ms", "raw WAL read fr/s (baseline)", "replay ÷ raw"],
    ["wal", "store"].map((s) => [
      s,
      r[s].frames,
      r[s].replayFramesPerSecond,
      r[s].firstFrameMs,
      r[s].rawWalReadFramesPerSecond,
      r[s].rawWalReadFramesPerSecond
        ? ratio(r[s].replayFramesPerSecond!, r[s].rawWalReadFramesPerSecond!)
        : "–",
    ]),
  );
  const c = r.catchUp;
  md += `\nReplay-then-live from seq 1 with ${fmt(c.backlogFrames)} frames behind under ${fmt(c.ingestPerSecond)} ticks/s: live after ${fmt(c.liveAfterMs)} ms (${fmt(c.framesBeforeLive)} frames replayed).\n\n`;
  md += img("replay-throughput.svg", "replay frames/s");
  const bars: Bar[] = [
    { group: "from the WAL", system: "replay", value: r.wal.replayFramesPerSecond ?? 0 },
    { group: "from the WAL", system: "raw WAL read (baseline)", value: r.wal.rawWalReadFramesPerSecond ?? 0 },
    { group: "from the store", system: "replay", value: r.store.replayFramesPerSecond ?? 0 },
  ];
  return {
    md,
    charts: [
      {
        file: "replay-throughput.svg",
        svg: throughputBars("replay at speed max, one client", "frames/s", bars),
      },
    ],
  };
}

function recoverySection(j: Record<string, unknown>): Section {
  const sc = j.scenarios as Record<string, number | string>[];
  const base = j.baseline as Record<string, number>;
  let md = `Empty-dir ready time (baseline): ${fmt(base.emptyReadyS)} s.\n\n`;
  md += table(
    [
      "scenario",
      "unindexed at restart",
      "recoverMs",
      "readyS",
      "ready ÷ empty",
      "indexedS",
      "create MB/s",
      "verify MB/s",
      "restore MB/s",
      "cp MB/s",
      "create ÷ cp",
      "restore ÷ cp",
    ],
    sc.map((s) => [
      s.name,
      s.unindexedAtRestart,
      s.recoverMs,
      s.readyS,
      s.readyRatioToEmpty,
      s.indexedS,
      s.createMbPerS,
      s.verifyMbPerS,
      s.restoreMbPerS,
      s.cpMbPerS,
      s.createRatioToCp,
      s.restoreRatioToCp,
    ]),
  );
  return { md, charts: [] };
}

const SECTIONS: Record<BenchName, (j: Record<string, unknown>) => Section> = {
  ring: ringSection,
  storage: storageSection,
  e2e: e2eSection,
  replay: replaySection,
  recovery: recoverySection,
  peers: peersSection,
};

// ---------------------------------------------------------------------------------------------------

const load0 = loadavg();
const runs: Run[] = [];
for (const [i, name] of chosen.entries()) runs.push(await runBench(name, i));
const load1 = loadavg();

let md = `# tickring benchmark report — ${started.toISOString()}\n\n`;
md += `Machine: ${cpus().length} CPUs (\`nproc\`), ${cpus()[0]?.model ?? "unknown"}, ${Math.round(totalmem() / 1e9)} GB RAM, Linux ${release()}, Node ${process.version}. `;
md += `Load average (1 min) ${load0[0].toFixed(2)} at the start, ${load1[0].toFixed(2)} at the end.\n\n`;
md += `Command: \`tickring bench report${values.only.length < REPORTED.length ? ` --only ${values.only.join(",")}` : ""}${values.smoke ? " --smoke" : ""}${values.duration ? ` --duration ${values.duration}` : ""}\`${values.smoke ? " — **smoke mode: CI-sized runs, the figures mean little**" : ""}. Benchmarks ran one after another; every figure below is what this run measured.\n\n`;
md += table(
  ["benchmark", "arguments", "status", "wall s"],
  runs.map((r) => [r.name, `\`${r.args.join(" ")}\``, r.ok ? "ok" : "**failed**", r.seconds]),
);
const charts: { file: string; svg: Promise<string> }[] = [];
for (const r of runs) {
  md += `\n## ${r.name}\n\n`;
  if (!r.ok || r.json === undefined) {
    md += `**Failed**: \n\n\`\`\`\n${r.error}\n\`\`\`\n`;
    continue;
  }
  try {
    const s = SECTIONS[r.name as BenchName](r.json);
    md += s.md;
    charts.push(...s.charts);
  } catch (err) {
    md += `Could not render this benchmark's JSON (${(err as Error).message}); see results.json.\n`;
  }
}
for (const c of charts) writeFileSync(join(outDir, c.file), await c.svg);
writeFileSync(join(outDir, "report.md"), md);
writeFileSync(
  join(outDir, "results.json"),
  `${JSON.stringify(
    runs.map(({ name, args, ok, seconds, json, error }) => ({
      name,
      args,
      ok,
      seconds,
      error,
      result: json,
    })),
    null,
    2,
  )}\n`,
);
process.stderr.write(
  `report: wrote ${relative(process.cwd(), join(outDir, "report.md")) || "report.md"} (${charts.length} plots)\n`,
);
console.log(
  JSON.stringify({
    report: join(outDir, "report.md"),
    ok: runs.every((r) => r.ok),
    benches: runs.map((r) => ({ name: r.name, ok: r.ok })),
  }),
);
process.exitCode = runs.every((r) => r.ok) ? 0 : 1;
