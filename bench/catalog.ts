/**
 * The benchmarks `tickring bench` runs, each declared once: name, script, what it measures, its flags.
 * `tickring bench <name> --help` prints the usage from here, `tickring bench <name> ARGS` checks ARGS
 * against it before starting the script, and the script reads its values through it (bench/flags.ts).
 * Side-effect free: the CLI imports it without running any benchmark.
 */
import { patternProblem } from "../src/auth/patterns.js";
import { OptionError } from "../src/errors.js";
import { type BenchSpec, count, defineBench, list, pattern, seconds, text, toggle } from "./flags.js";
import type { TickFormat } from "./e2e/ticks.js";

/**
 * The peers benchmark's three paths, in the order they run. Here, not in bench/peers, so the CLI's import of
 * this catalog pulls in no benchmark code (the npm package ships only the catalog and flags.ts).
 */
export const PATHS = ["fanout", "ingest", "replay"] as const;

/** The tick formats each peers path runs in, on both sides: the JSON a publisher writes, FlatBuffers frames. */
export const FORMATS = ["json", "flatbuffers"] as const satisfies readonly TickFormat[];

/** Reads one item of a list flag that must be one of `names`. */
function oneOf<T extends string>(names: readonly T[]): (text: string) => T {
  return (text) => {
    const known = names.find((n) => n === text);
    if (known === undefined) throw new Error(`expected names among ${names.join(",")}`);
    return known;
  };
}

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
    bars: {
      arg: "LIST",
      help: "the spawned daemon's --bars, e.g. none or 1s,1m",
      default: "1s,1m",
      shownDefault: "1s,1m",
      parse: (t: string) => t,
    },
    url: text("ws://HOST:PORT", "load a daemon that is already running (no spawn, no baseline)", (url) => {
      if (!/^wss?:\/\/[^/]+\/?$/.test(url)) throw new Error("expected ws://host:port of a running tickring");
    }),
    auth: text(
      "PATTERNS",
      "spawn the daemon with --auth-secret-file; clients present a token (?token=) whose realtime claim is PATTERNS: * (no filter) or e.g. SYM* (the bench's 64 symbols through the entitlement filter)",
      (patterns) => {
        for (const p of patterns.split(",")) {
          const problem = patternProblem(p);
          if (problem !== undefined) throw new Error(`${JSON.stringify(p)} ${problem}`);
        }
      },
    ),
  },
  check({ url, auth }) {
    if (url !== undefined && auth !== undefined) {
      throw new OptionError(
        "--auth",
        "not with --url: the daemon is spawned with a secret of the bench's own",
      );
    }
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
  summary: "tickring against nats-server, JSON and binary: fan-out, durable ingest, replay.",
  details: `Install the peer with: bash bench/peers/install.sh (without nats-server on the PATH this says so
and exits 0). tickring runs under --fsync os (JetStream 2.9's durability) and --fsync batch (its
default); each path runs once per format, on both sides:
  fanout  --clients WebSocket subscribers to every symbol in --procs load processes, one publisher of
          --batch trades per message with at most --window ticks unacked; NATS core with its WebSocket
          listener. Delivered frames/s over --duration seconds.
  ingest  acked ticks/s from one connection, at most --window ticks unacked: tickring --batch trades per
          message; JetStream file store, asynchronous publishes (PubAcks on a reply subject).
  replay  --frames stored trades from seq 1, every frame parsed: tickring historical speed max;
          JetStream ordered consumer.
Prints markdown tables (--json: one JSON object). See bench/README.md "Peers".`,
  flags: {
    duration: seconds("seconds per run, 0.3 under --smoke", 5),
    json,
    smoke,
    only: list("PATH,PATH", "the paths to compare", [...PATHS], oneOf(PATHS)),
    formats: list("FORMAT,FORMAT", "the tick formats each path runs in", [...FORMATS], oneOf(FORMATS)),
    clients: count("fan-out subscribers, 2 under --smoke", 20),
    procs: count("load processes the fan-out subscribers are spread over", 2),
    window: count("ticks unacked at most, fan-out publisher and ingest (at least --batch)", 2000),
    batch: count("trades per tickring ingest message and per NATS core PING", 100),
    frames: count("stored trades replayed, 2000 under --smoke", 200_000),
    workers: count("worker threads of the spawned daemon (default: the daemon's own)", undefined),
  },
  check({ window, batch }) {
    if (window < batch)
      throw new OptionError("--window", `must be at least --batch (${batch}), got ${window}`);
  },
});

/** The topologies the replication benchmark compares. */
export const TOPOLOGIES = ["single", "r1", "r3"] as const;

export const REPLICATION = defineBench({
  name: "replication",
  script: "replication/replication.bench.js",
  summary:
    "A leader and a follower on NATS JetStream (R1, R3) beside a single node: latency, throughput, failover.",
  details: `Needs nats-server (sh bench/peers/install.sh; without it this says so and exits 0). Each topology
in one run: single (one tickring, no replication), r1 (one nats-server, R1 stream), r3 (a 3-server
JetStream cluster on loopback, bench/cluster, R3 stream); tickring nodes with --fsync batch.
  latency   --rate ticks/s published to the leader, --clients subscribers on the follower (single: on
            the node itself): ingest → client receive p50/p99 over --duration seconds.
  ingest    the leader's acked ticks/s from one windowed publisher, --ack-after durable and replicated.
  catch-up  --frames frames in the stream, then a fresh follower: its sustained applied frames/s.
  failover  a leader (--ack-after replicated) under ingest and a standby; kill -9 of the leader, then the
            time until the standby acks a publisher, --failovers times.
Prints a table (--json: one JSON object) with the machine, its load average and the cluster layout.
See bench/README.md "Replication".`,
  flags: {
    duration: seconds("seconds per latency and ingest run, 0.5 under --smoke", 5),
    json,
    smoke,
    only: list("TOPOLOGY,TOPOLOGY", "the topologies to run", [...TOPOLOGIES], oneOf(TOPOLOGIES)),
    rate: count("ticks/s published in the latency runs", 10_000),
    clients: count("subscribers on the follower in the latency runs", 1),
    frames: count("frames a fresh follower catches up on, 20000 under --smoke", 500_000),
    failovers: count("kill -9 failovers per replicated topology, 1 under --smoke", 3, 0),
    workers: count("worker threads of each spawned daemon", 1),
  },
});

/** The hostile loads of the soak's second phase (bench/soak/hostile/). */
export const HOSTILE_LOADS = ["fuzz", "stalled", "churn", "replays", "symbols"] as const;

export const SOAK = defineBench({
  name: "soak",
  script: "soak/soak.bench.js",
  summary: "The daemon under normal load, then under hostile clients too: crashes, acked ticks, RSS, p99.",
  details:
    "Two phases of --duration each: normal load only, then with fuzzing, stalled clients, connection\n" +
    "churn, a replay storm and symbol/limit hunters. Exits 0 whether or not the targets are met.\n" +
    'See bench/README.md "Soak".',
  flags: {
    duration: seconds("seconds of each of the two phases, 2 under --smoke", 60),
    json,
    smoke,
    seed: count("seed of the hostile inputs, to make a run's inputs again (default: random)", undefined, 0),
    hostile: list("NAME,NAME", "the hostile loads of the second phase", [...HOSTILE_LOADS], (name) => {
      const known = HOSTILE_LOADS.find((h) => h === name);
      if (known === undefined) throw new Error(`expected names among ${HOSTILE_LOADS.join(",")}`);
      return known;
    }),
  },
});

export const DASHBOARD = defineBench({
  name: "dashboard",
  script: "dashboard/dashboard.bench.js",
  summary:
    "The dashboard page in headless Chromium: KB transferred, and its CPU at rest and under the demo feed.",
  details:
    "Needs Chromium (sh scripts/install-chromium.sh, or CHROMIUM_PATH). Main-thread CPU from the DevTools\n" +
    'Protocol\'s TaskDuration, renderer CPU from SystemInfo.getProcessInfo. See bench/README.md "Dashboard".',
  flags: {
    duration: seconds("seconds of each scenario's measured window, 1 under --smoke", 20),
    json,
    smoke,
    rate: count("ticks/s of the demo feed, 1000 under --smoke", 10_000),
    symbols: count("symbols of the demo feed, 10 under --smoke", 50),
  },
});

export const BARS = defineBench({
  name: "bars",
  script: "bars/bars.bench.js",
  summary: "The sequencer's ingest rate with live bars (1s,1m) against without, for trades and for quotes.",
  details: 'On a real WAL and ring, in alternating rounds. See bench/README.md "Bars".',
  flags: {
    duration: seconds("seconds per round (8 rounds per feed), 0.1 under --smoke", 2),
    json,
    smoke,
  },
});

export const HTTP = defineBench({
  name: "http",
  script: "http/http.bench.js",
  summary: "GET /v1/history and /v1/bars to one client, against rendering in-process; in place vs piscina.",
  details: 'See bench/README.md "HTTP history".',
  flags: {
    frames: count("frames written, then read back over HTTP, 20000 under --smoke", 1_000_000, 1000),
    json,
    smoke,
  },
  refused: { duration: "http runs a fixed number of frames: use --frames N" },
});

export const IMPORT = defineBench({
  name: "import",
  script: "import/import.bench.js",
  summary: "tickring import csv offline, rows/s for plain and gzip CSV, against papaparse parsing alone.",
  details: 'See bench/README.md "Import".',
  flags: {
    rows: count("trade rows in the CSV, 20000 under --smoke", 1_000_000, 1000),
    json,
    smoke,
  },
  refused: { duration: "import runs a fixed number of rows: use --rows N" },
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
    only: list("NAME,NAME", "the benchmarks to run", [...REPORTED], oneOf(REPORTED)),
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
  REPLICATION,
  SOAK,
  DASHBOARD,
  BARS,
  HTTP,
  IMPORT,
  REPORT,
];
