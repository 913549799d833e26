/**
 * The benchmarks `tickring bench` runs, each declared once: name, script, what it measures, its flags.
 * `tickring bench <name> --help` prints the usage from here, `tickring bench <name> ARGS` checks ARGS
 * against it before starting the script, and the script reads its values through it (bench/flags.ts).
 * Side-effect free: the CLI imports it without running any benchmark.
 */
import { type BenchSpec, count, defineBench, list, pattern, seconds, text, toggle } from "./flags.js";

const json = toggle("print one JSON object (what bench report collects) instead of text");
const smoke = toggle("a CI-sized run that only checks the benchmark works: the figures mean little");

export const RING = defineBench({
  name: "ring",
  script: "ring/ring.bench.js",
  summary: "The SharedArrayBuffer broadcast ring against worker.postMessage, 1/2/4 consumer threads.",
  details: 'Latency is one-way, from each frame\'s intended send time. See bench/README.md "Ring".',
  flags: {
    duration: seconds("seconds per scenario, 0.05 under --smoke", 2),
    json,
    smoke,
    "spin-us": count("microseconds a consumer spins on an empty ring before it sleeps", 0, 0),
    batch: count("frames the producer publishes per tail update", 64),
    only: pattern("run only the scenarios whose frame/consumers/mode matches, e.g. trade/1/unpaced"),
  },
});

export const STORAGE = defineBench({
  name: "storage",
  script: "storage/storage.bench.js",
  summary: "The WAL against raw fs.writeSync per frame size and fsync policy; fdatasync, indexer, reads.",
  details: 'On real files under the OS temp dir. See bench/README.md "Storage".',
  flags: {
    duration: seconds("seconds per scenario, 0.05 under --smoke", 2),
    json,
    smoke,
    group: count("WAL appends per write() call", 128),
    frames: count("frames in the store scenarios, 5000 under --smoke", 500_000, 100),
    only: pattern("run only the scenarios whose name matches, e.g. wal/104/batch, indexer, read"),
  },
});

export const PUBLISHER = defineBench({
  name: "publisher",
  script: "publisher/publisher.bench.js",
  summary: "The ingest edge: binary frames verified against the same ticks as JSON parsed and encoded.",
  flags: { json, smoke },
  refused: { duration: "publisher runs a fixed number of messages" },
});

export const E2E = defineBench({
  name: "e2e",
  script: "e2e/e2e.bench.js",
  summary: "Ingest → receive latency and delivered frames/s, tickring against a ws + postMessage baseline.",
  details:
    'Clients are spread over load processes on this machine. See bench/README.md "E2E".\n' +
    "--clients/--rate replace the scenario list with that one scenario.",
  flags: {
    duration: seconds("seconds per scenario, 0.3 under --smoke", 3),
    json,
    smoke,
    workers: count("worker threads of the spawned daemon", 2),
    "no-ws": toggle("skip the second tickring run of each scenario, on the ws transport"),
    only: pattern('run only the scenarios whose label matches, e.g. "100 clients @ 10K/s"'),
    clients: count("clients of the one scenario (default with --rate: 1)", undefined),
    rate: count("ticks/s of the one scenario, 0 = saturation (default with --clients: 10000)", undefined, 0),
    procs: count("load processes (default: by client count; --smoke: 2)", undefined),
    url: text("ws://HOST:PORT", "load a daemon that is already running (no spawn, no baseline)", (url) => {
      if (!/^wss?:\/\/[^/]+\/?$/.test(url)) throw new Error("expected ws://host:port of a running tickring");
    }),
  },
});

export const REPLAY = defineBench({
  name: "replay",
  script: "replay/replay.bench.js",
  summary: "Historical replay at max speed from the WAL and the store, against reading the WAL in-process.",
  details:
    'Also time to first frame, and replay-then-live catch-up under ingest. See bench/README.md "Replay".',
  flags: {
    frames: count("frames written, then replayed, 20000 under --smoke", 1_000_000),
    json,
    smoke,
  },
  refused: { duration: "replay runs a fixed number of frames: use --frames N" },
});

export const RECOVERY = defineBench({
  name: "recovery",
  script: "recovery/recovery.bench.js",
  summary: "Restart after kill -9 with N MB of WAL not yet indexed; snapshot create/verify/restore vs fs.cp.",
  details: 'See bench/README.md "Recovery".',
  flags: {
    json,
    smoke,
    sizes: list("MB,MB", "MB of WAL per scenario, 4 under --smoke", [100, 1000], (mb) => {
      if (!(Number(mb) > 0)) throw new Error("expected positive MB counts");
      return Number(mb);
    }),
    duration: seconds("longest wait for the indexer to catch up; past it indexedS is null", 300),
  },
});

export const PEERS = defineBench({
  name: "peers",
  script: "peers/peers.bench.js",
  summary: "Fan-out, persistence and replay side by side with nats-server (sh bench/peers/install.sh).",
  details: 'Without nats-server on the PATH it says so and exits 0. See bench/README.md "Peers".',
  flags: {
    duration: seconds("seconds per scenario, 0.3 under --smoke", 3),
    json,
    smoke,
    frames: count("stored ticks replayed, 5000 under --smoke", 200_000),
    window: count("unacked publishes in flight in the persistence comparison", 256),
    workers: count("worker threads of the spawned daemon", 2),
  },
});

/** The benchmarks `bench report` runs and charts, in its order. */
export const REPORTED = ["ring", "storage", "e2e", "replay", "recovery", "peers"] as const;

export const REPORT = defineBench({
  name: "report",
  script: "report/report.js",
  summary: "Run a set of benchmarks one after another; write report.md, SVG plots and results.json.",
  details:
    "Into bench/results/<UTC date-time>/ (or --out). A failed benchmark is reported, the rest still run.",
  flags: {
    only: list("NAME,NAME", "the benchmarks to run", [...REPORTED], (name) => {
      const known = REPORTED.find((r) => r === name);
      if (known === undefined) throw new Error(`expected names among ${REPORTED.join(",")}`);
      return known;
    }),
    smoke,
    duration: seconds("seconds per scenario, for the benchmarks that take it", undefined),
    out: text("DIR", "where the report goes"),
  },
});

/** Every benchmark, in the order `tickring bench --help` lists them. */
export const BENCHMARKS: readonly BenchSpec[] = [
  RING,
  STORAGE,
  PUBLISHER,
  E2E,
  REPLAY,
  RECOVERY,
  PEERS,
  REPORT,
];
