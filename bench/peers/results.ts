/**
 * The peers benchmark's results (its `--json` output) and the tables made of them: one definition for
 * the benchmark's own printout and for bench/report.
 */
import type { LoadResult } from "../e2e/load-group.js";
import type { TickFormat } from "../e2e/ticks.js";
import type { WindowedRun } from "../e2e/window-publisher.js";
import { fmt, ratio, table } from "../report/markdown.js";

/** tickring's WAL policies compared: `os` matches JetStream 2.9's file store, `batch` is the default. */
export const FSYNCS = ["os", "batch"] as const;
export type Fsync = (typeof FSYNCS)[number];

/** One measured run of one system. */
export interface PeerRun<D> {
  /** The path's figure: delivered frames/s (fan-out), acked ticks/s (ingest), frames/s (replay). */
  perSecond: number;
  /** Cores the server process (tickring daemon, nats-server) used over the measured window. */
  serverCpu: number | null;
  /** 1-minute load average when the run started. */
  loadAvg: number;
  detail: D;
}

/** A replay's client-side view. */
export interface ReplayDetail {
  frames: number;
  firstFrameMs: number;
}

interface Comparison<P extends string, D> {
  path: P;
  format: TickFormat;
  /** One NATS run per format; both tickring rows compare with it. */
  nats: PeerRun<D>;
  /** null: not run (`--smoke` runs the default policy only). */
  tickring: Record<Fsync, PeerRun<D> | null>;
}

export type PeerComparison =
  | Comparison<"fanout", LoadResult>
  | Comparison<"ingest", WindowedRun>
  | (Comparison<"replay", ReplayDetail> & {
      /** The ordered consumer again with a pull batch of 1000 (nats.js's default is 100). */
      natsPull1000?: PeerRun<ReplayDetail>;
    });

export interface PeersSettings {
  seconds: number;
  warmupS: number;
  clients: number;
  procs: number;
  /** Ticks unacked at most (fan-out publisher and ingest). */
  window: number;
  /** Ticks per tickring ingest message / per NATS core PING. */
  batch: number;
  replayFrames: number;
  /** tickring `--workers` (null: its default, one per core). */
  workers: number | null;
}

const FORMAT_NAME: Record<TickFormat, string> = { json: "JSON", flatbuffers: "binary (FlatBuffers)" };
const DURABILITY: Record<Fsync, string> = {
  os: "`--fsync os` (ack after write(), no fsync: JetStream 2.9's durability)",
  batch: "`--fsync batch` (the default: ack after fdatasync)",
};
const cores = (c: number | null) => (c === null ? "–" : c.toFixed(2));
const ms = (us: number) => fmt(Math.round(us / 10) / 100);

/**
 * One markdown table: a row per tickring policy — its figure, NATS's (the same run in both rows), the
 * ratio, both servers' CPU, the path's own `extra` columns, the load averages when the runs started.
 */
function comparisonTable<D>(
  c: Comparison<string, D>,
  head: { unit: string; nats: string; extra: string[] },
  extra: (t: PeerRun<D>, n: PeerRun<D>) => unknown[],
): string {
  const columns = [
    "tickring",
    `tickring ${head.unit}`,
    `${head.nats} ${head.unit}`,
    `tickring ÷ ${head.nats}`,
    "CPU tickring / nats-server",
    ...head.extra,
    "load at start: tickring / NATS run",
  ];
  const n = c.nats;
  const rows = FSYNCS.map((f) => {
    const t = c.tickring[f];
    if (t === null) return [DURABILITY[f], "not run (--smoke)", ...columns.slice(2).map(() => "")];
    return [
      DURABILITY[f],
      t.perSecond,
      n.perSecond,
      ratio(t.perSecond, n.perSecond),
      `${cores(t.serverCpu)} / ${cores(n.serverCpu)}`,
      ...extra(t, n),
      `${t.loadAvg.toFixed(2)} / ${n.loadAvg.toFixed(2)}`,
    ];
  });
  return table(columns, rows);
}

/** A title and a markdown table for each comparison, in the order they ran. */
export function peerTables(results: PeerComparison[], s: PeersSettings): { title: string; md: string }[] {
  return results.map((c) => {
    const format = FORMAT_NAME[c.format];
    if (c.path === "fanout") {
      const lat = (l: LoadResult) => `${ms(l.latencyUs.p50)} / ${ms(l.latencyUs.p99)}`;
      const head = {
        unit: "fr/s",
        nats: "NATS core",
        extra: [
          "publisher acked ticks/s: tickring / NATS",
          "client CPU, busiest load process: tickring / NATS",
          "latency p50 / p99 ms: tickring vs NATS",
          "skipped (tickring) / closed (NATS)",
        ],
      };
      return {
        title: `Fan-out, ${format}: delivered frames/s`,
        md: comparisonTable(c, head, (t, n) => [
          `${fmt(t.detail.publisher?.ackedPerSecond)} / ${fmt(n.detail.publisher?.ackedPerSecond)}`,
          `${t.detail.clientCpu.toFixed(2)} / ${n.detail.clientCpu.toFixed(2)}`,
          `${lat(t.detail)} vs ${lat(n.detail)}`,
          `${fmt(t.detail.skipped)} / ${n.detail.closed}`,
        ]),
      };
    }
    if (c.path === "ingest") {
      const lat = (r: WindowedRun) => `${ms(r.ackLatencyUs.p50)} / ${ms(r.ackLatencyUs.p99)}`;
      const head = { unit: "ticks/s", nats: "JetStream", extra: ["ack p50 / p99 ms: tickring vs JetStream"] };
      return {
        title: `Durable ingest, ${format}: acked ticks/s, one connection, ≤ ${fmt(s.window)} ticks unacked`,
        md: comparisonTable(c, head, (t, n) => [`${lat(t.detail)} vs ${lat(n.detail)}`]),
      };
    }
    const head = { unit: "fr/s", nats: "JetStream", extra: ["first frame ms: tickring vs JetStream"] };
    const pull = c.natsPull1000;
    return {
      title: `Replay of ${fmt(s.replayFrames)} ticks from seq 1, ${format}: frames/s, every frame parsed`,
      md:
        comparisonTable(c, head, (t, n) => [`${t.detail.firstFrameMs} vs ${n.detail.firstFrameMs}`]) +
        (pull === undefined
          ? ""
          : `\nThe ordered consumer with a pull batch of 1,000 instead of nats.js's default 100: ${fmt(pull.perSecond)} frames/s (nats-server CPU ${cores(pull.serverCpu)}).\n`),
    };
  });
}
