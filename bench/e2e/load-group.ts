/**
 * Runs one load scenario over several load processes (load.ts): N subscriber connections spread over
 * `procs` processes, process 0 also publishing. Waits until every subscription is confirmed, hands all
 * processes one schedule on the shared monotonic clock, and merges their HDR histograms.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { build, decodeFromCompressedBase64 } from "hdr-histogram-js";
import type { LoadProcessResult } from "./load.js";
import { cpuMeter } from "./proc-cpu.js";
import type { TickFormat } from "./ticks.js";
import type { WindowedRun } from "./window-publisher.js";

const LOAD = new URL("./load.js", import.meta.url).pathname;

export interface LoadGroupOptions {
  system: "tickring" | "baseline" | "nats";
  /** Publisher endpoint: ws:// (tickring, baseline) or nats:// (NATS core over TCP). */
  ingest: string;
  /** Subscriber endpoint (ws://). */
  feed: string;
  clients: number;
  /** Ticks per second; 0 = as fast as the first subscriber takes them. */
  rate: number;
  /** Load processes; the clients are split evenly over them. */
  procs: number;
  seconds: number;
  warmupS: number;
  /** Subscribe message (tickring). */
  subscribe?: string;
  /** What subscribers receive and parse (load.ts `--format`); default flatbuffers. */
  format?: TickFormat;
  /** Binary subscribers decode every field of every frame (not only ts_event). */
  decode?: boolean;
  /**
   * With rate 0: the windowed publisher (window-publisher.ts) with at most `window` ticks unacked in
   * batches of `batch`, and frames counted when received inside the measured window.
   */
  window?: number;
  batch?: number;
  /** Processes whose CPU is measured over the measured window (the servers under test). */
  cpuPids?: number[];
}

export interface LoadResult {
  clients: number;
  rate: number;
  procs: number;
  sent: number;
  seconds: number;
  deliveredPerSecond: number;
  perClientPerSecond: number;
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number };
  /** Latency (µs) at percentiles for plotting: [[percentile, µs], …]. */
  percentileCurveUs: [number, number][];
  samples: number;
  /** Highest share of one core any load process used: near 1.0 means the client side was the limit. */
  clientCpu: number;
  clientCpuPerProc: number[];
  /** Frames the server skipped for slow subscribers (tickring `gap`s), all connections. */
  skipped: number;
  /** Subscriber connections the server closed before the end. */
  closed: number;
  /** Cores each of `cpuPids` used over the measured window (null: unknown). */
  serverCpu: (number | null)[];
  publisher?: WindowedRun;
}

/** Default process count: one per 50 clients, at least 1, at most the clients. */
export function defaultProcs(clients: number): number {
  return Math.max(1, Math.min(clients, Math.ceil(clients / 50)));
}

export const CURVE_PERCENTILES = [0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100];

interface Proc {
  ready: Promise<void>;
  result: Promise<LoadProcessResult>;
  go(line: string): void;
  kill(): void;
}

function startProc(args: string[]): Proc {
  const child = spawn(process.execPath, [LOAD, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`load process exited with ${code} before its result`))),
  );
  let onReady!: () => void;
  let onResult!: (r: LoadProcessResult) => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const result = new Promise<LoadProcessResult>((r) => (onResult = r));
  lines.on("line", (line) => {
    const msg = JSON.parse(line) as { ready?: boolean } & LoadProcessResult;
    if (msg.ready) onReady();
    else onResult(msg);
  });
  // Either settles first; a process that dies early rejects both waits.
  exited.catch(() => {});
  return {
    ready: Promise.race([ready, exited]),
    result: Promise.race([result, exited]),
    go: (line) => child.stdin!.write(`${line}\n`),
    kill: () => child.kill("SIGKILL"),
  };
}

export async function runLoadGroup(o: LoadGroupOptions): Promise<LoadResult> {
  const procs = Math.max(1, Math.min(o.procs, o.clients));
  const group: Proc[] = [];
  try {
    for (let p = 0; p < procs; p++) {
      const share = Math.floor(((p + 1) * o.clients) / procs) - Math.floor((p * o.clients) / procs);
      const args = ["--system", o.system, "--feed", o.feed, "--clients", String(share)];
      if (p === 0) args.push("--publish", "--ingest", o.ingest, "--rate", String(o.rate));
      if (o.subscribe !== undefined) args.push("--subscribe", o.subscribe);
      if (o.format !== undefined) args.push("--format", o.format);
      if (o.decode === true) args.push("--decode");
      if (o.window !== undefined) {
        args.push("--window", String(o.window), "--batch", String(o.batch ?? 100), "--count-by", "receive");
      }
      group.push(startProc(args));
    }
    await Promise.all(group.map((g) => g.ready));
    // Start 300 ms from now so the publisher's connection and thread are up before the first slot.
    const start = process.hrtime.bigint() + 300_000_000n;
    const measureFrom = start + BigInt(Math.round(o.warmupS * 1e9));
    const end = measureFrom + BigInt(Math.round(o.seconds * 1e9));
    const line = JSON.stringify({
      startNs: String(start),
      measureFromNs: String(measureFrom),
      endNs: String(end),
    });
    for (const g of group) g.go(line);
    const serverCpu = measureBetween(o.cpuPids ?? [], measureFrom, end);
    const results = await Promise.all(group.map((g) => g.result));
    return { ...merge(o, procs, results), serverCpu: await serverCpu };
  } finally {
    for (const g of group) g.kill();
  }
}

/** Cores each of `pids` uses between two hrtimes to come. */
async function measureBetween(pids: number[], fromNs: bigint, toNs: bigint): Promise<(number | null)[]> {
  const until = (ns: bigint) =>
    new Promise((r) => setTimeout(r, Math.max(0, Number(ns - process.hrtime.bigint()) / 1e6)));
  await until(fromNs);
  const meter = cpuMeter(pids);
  await until(toNs);
  return meter.stop();
}

function merge(
  o: LoadGroupOptions,
  procs: number,
  results: LoadProcessResult[],
): Omit<LoadResult, "serverCpu"> {
  const total = build({
    numberOfSignificantValueDigits: 3,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000_000,
  });
  let delivered = 0;
  for (const r of results) {
    total.add(decodeFromCompressedBase64(r.histogram));
    delivered += r.delivered;
  }
  const us = (p: number) =>
    total.totalCount === 0 ? 0 : Math.round(total.getValueAtPercentile(p) / 10) / 100;
  return {
    clients: o.clients,
    rate: o.rate,
    procs,
    sent: results[0].sent,
    seconds: o.seconds,
    deliveredPerSecond: Math.round(delivered / o.seconds),
    perClientPerSecond: Math.round(delivered / o.seconds / o.clients),
    latencyUs: {
      p50: us(50),
      p90: us(90),
      p99: us(99),
      p999: us(99.9),
      max: Math.round(total.maxValue / 1000),
    },
    percentileCurveUs: CURVE_PERCENTILES.map((p) => [p, us(p)]),
    samples: total.totalCount,
    clientCpu: Math.max(...results.map((r) => r.cpu)),
    clientCpuPerProc: results.map((r) => r.cpu),
    skipped: results.reduce((n, r) => n + r.skipped, 0),
    closed: results.reduce((n, r) => n + r.closed, 0),
    publisher: results[0].publisher,
  };
}
