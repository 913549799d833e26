/**
 * Ring benchmark: the SharedArrayBuffer broadcast ring against `worker.postMessage` of a frame copy, in the
 * same process tree, for 1, 2 and 4 consumer threads, two frame sizes, paced (100K frames/s) and unpaced.
 *
 *   node dist/bench/ring/ring.bench.js [flags]   (flags: bench/catalog.ts, or --help)
 *
 * Latency is one-way: the producer stamps each frame's ts_recv with a send time on a process-wide
 * monotonic clock and the consumer subtracts it from its receive time. Paced runs stamp the frame's
 * intended send time, so a stalled producer shows up as latency (no coordinated omission).
 */
import { cpus } from "node:os";
import { Worker } from "node:worker_threads";
import { RingWriter } from "../../src/ring/writer.js";
import { RING } from "../catalog.js";
import { benchFlags } from "../flags.js";
import {
  CONTROL_PROGRESS,
  CONTROL_READY,
  CONTROL_WORDS,
  type ConsumerData,
  type ConsumerResult,
  clockNs,
  FRAME_TICKS,
  newEpochMs,
  StampedFrame,
  toHistogram,
} from "./support.js";

type Transport = ConsumerData["transport"];

interface Options {
  durationS: number;
  json: boolean;
  smoke: boolean;
  spinMicros: number;
  batch: number;
  /** Runs only the scenarios whose `frame/consumers/mode` matches. */
  only: RegExp;
}

interface Scenario {
  transport: Transport;
  frame: string;
  consumers: number;
  /** Frames per second, or 0 for as fast as the producer can go. */
  rate: number;
}

/** One scenario's figures; latencies in microseconds. */
interface Result {
  transport: Transport;
  frame: string;
  frameBytes: number;
  consumers: number;
  mode: string;
  sent: number;
  seconds: number;
  /** Frames each consumer received per second, averaged over consumers. */
  deliveredPerSecond: number;
  /** Share of sent frames a consumer did not receive (ring laps), averaged over consumers. */
  lostRatio: number;
  laps: number;
  tornRuns: number;
  framesPerRun: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

const PACED_RATE = 100_000;
/**
 * Unpaced runs keep at most this many frames in flight per consumer, for both transports: postMessage
 * queues would otherwise eat the heap, and a flooded ring would measure laps rather than delivery.
 */
const WINDOW_FRAMES = 65_536;
/** Room for the window of the largest frame twice over, so a windowed producer never laps a reader. */
const RING_CAPACITY = 32 * 1024 * 1024;
const WORKER_URL = new URL("./consumer.worker.js", import.meta.url);

function parseOptions(): Options {
  const flags = benchFlags(RING);
  return {
    durationS: flags.smoke ? 0.05 : flags.duration,
    json: flags.json,
    smoke: flags.smoke,
    spinMicros: flags["spin-us"],
    batch: flags.batch,
    only: flags.only,
  };
}

function scenarios({ smoke, only }: Options): Scenario[] {
  const out: Scenario[] = [];
  for (const frame of Object.keys(FRAME_TICKS)) {
    for (const consumers of smoke ? [1, 2] : [1, 2, 4]) {
      for (const rate of [PACED_RATE, 0]) {
        if (!only.test(`${frame}/${consumers}/${rate > 0 ? "paced" : "unpaced"}`)) continue;
        for (const transport of ["ring", "postMessage"] as const)
          out.push({ transport, frame, consumers, rate });
      }
    }
  }
  return out;
}

interface Sink {
  /** Sends frames `[from, to)`: stamps each and hands it to the transport. */
  send(from: number, to: number, tsNs: number, intervalNs: number): void;
  /**
   * Frames every consumer can still take now ({@link WINDOW_FRAMES} in flight), for unpaced runs. The ring
   * itself never waits for readers: this gate is the benchmark's, the same for both transports.
   */
  room(sent: number): number;
}

function ringSink(writer: RingWriter, control: Int32Array, consumers: number, frame: StampedFrame): Sink {
  const windowBytes = WINDOW_FRAMES * frame.bytes.length;
  if (windowBytes > writer.capacity / 2)
    throw new RangeError(`window of ${windowBytes} bytes exceeds half the ring`);
  return {
    send(from, to, tsNs, intervalNs) {
      for (let seq = from; seq < to; seq++) {
        frame.stamp(seq + 1, tsNs + (seq - from) * intervalNs);
        writer.append(frame.bytes);
      }
      writer.publish();
    },
    room() {
      const tail = writer.position() | 0;
      let lag = 0;
      for (let i = 0; i < consumers; i++)
        lag = Math.max(lag, (tail - Atomics.load(control, CONTROL_PROGRESS + i)) | 0);
      return Math.floor((windowBytes - lag) / frame.bytes.length);
    },
  };
}

function postSink(workers: Worker[], control: Int32Array, frame: StampedFrame): Sink {
  return {
    send(from, to, tsNs, intervalNs) {
      for (let seq = from; seq < to; seq++) {
        frame.stamp(seq + 1, tsNs + (seq - from) * intervalNs);
        for (const w of workers) w.postMessage(frame.bytes);
      }
    },
    room(sent) {
      let min = sent;
      for (let i = 0; i < workers.length; i++)
        min = Math.min(min, Atomics.load(control, CONTROL_PROGRESS + i));
      return WINDOW_FRAMES - (sent - min);
    },
  };
}

/**
 * The producer loop. Paced: every frame due by now is sent, stamped with its intended time, then published
 * as one batch. Unpaced: batches of `batch` frames stamped with the time the batch starts.
 */
function produce(sink: Sink, scenario: Scenario, options: Options, epochMs: number): number {
  const durationNs = options.durationS * 1e9;
  const start = clockNs(epochMs);
  let sent = 0;
  if (scenario.rate > 0) {
    const intervalNs = 1e9 / scenario.rate;
    for (let now = start; now - start < durationNs; now = clockNs(epochMs)) {
      const due = Math.floor((now - start) / intervalNs) + 1;
      if (due > sent) {
        sink.send(sent, due, start + sent * intervalNs, intervalNs);
        sent = due;
      }
    }
  } else {
    for (let now = start; now - start < durationNs; now = clockNs(epochMs)) {
      const n = Math.min(options.batch, sink.room(sent));
      if (n <= 0) continue;
      sink.send(sent, sent + n, now, 0);
      sent += n;
    }
  }
  return sent;
}

async function runScenario(scenario: Scenario, options: Options): Promise<Result> {
  const frame = new StampedFrame(FRAME_TICKS[scenario.frame]);
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  const writer = scenario.transport === "ring" ? RingWriter.allocate(RING_CAPACITY) : null;
  const epochMs = newEpochMs();
  const workers = Array.from({ length: scenario.consumers }, (_, index) => {
    const data: ConsumerData = {
      transport: scenario.transport,
      ring: writer?.buffer ?? null,
      control: control.buffer as SharedArrayBuffer,
      index,
      epochMs,
      spinMicros: options.spinMicros,
    };
    return new Worker(WORKER_URL, { workerData: data });
  });
  try {
    const results = workers.map(
      (w) =>
        new Promise<ConsumerResult>((resolve, reject) => {
          w.once("message", resolve);
          w.once("error", reject);
        }),
    );
    while (Atomics.load(control, CONTROL_READY) < workers.length) await new Promise((r) => setTimeout(r, 1));

    const sink = writer
      ? ringSink(writer, control, workers.length, frame)
      : postSink(workers, control, frame);
    const startNs = clockNs(epochMs);
    const sent = produce(sink, scenario, options, epochMs);
    for (const w of workers) w.postMessage("stop");
    const reports = await Promise.all(results);
    const seconds = (clockNs(epochMs) - startNs) / 1e9;
    return summarise(scenario, frame.bytes.length, sent, seconds, reports);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function summarise(
  scenario: Scenario,
  frameBytes: number,
  sent: number,
  seconds: number,
  reports: ConsumerResult[],
): Result {
  const total = toHistogram(reports.map((r) => r.latencyCounts));
  const sum = (f: (r: ConsumerResult) => number) => reports.reduce((s, r) => s + f(r), 0);
  const received = sum((r) => r.received);
  const us = (p: number) => round(total.getValueAtPercentile(p) / 1000, 1);
  return {
    transport: scenario.transport,
    frame: scenario.frame,
    frameBytes,
    consumers: scenario.consumers,
    mode: scenario.rate > 0 ? `paced ${scenario.rate / 1000}K/s` : "unpaced",
    sent,
    seconds: round(seconds, 3),
    deliveredPerSecond: Math.round(received / reports.length / seconds),
    lostRatio: round(1 - received / (sent * reports.length), 4),
    laps: sum((r) => r.laps),
    tornRuns: sum((r) => r.tornRuns),
    framesPerRun: round(
      received /
        Math.max(
          1,
          sum((r) => r.runs),
        ),
      1,
    ),
    p50Us: us(50),
    p99Us: us(99),
    p999Us: us(99.9),
    maxUs: round(total.maxValue / 1000, 1),
  };
}

function round(x: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}

/** Ring figures over postMessage figures for each frame/consumers/mode. */
function comparisons(results: Result[]) {
  const key = (r: Result) => `${r.frame}/${r.consumers}/${r.mode}`;
  const post = new Map(results.filter((r) => r.transport === "postMessage").map((r) => [key(r), r]));
  return results
    .filter((r) => r.transport === "ring")
    .map((ring) => {
      const base = post.get(key(ring))!;
      return {
        frame: ring.frame,
        frameBytes: ring.frameBytes,
        consumers: ring.consumers,
        mode: ring.mode,
        throughputRatio: round(ring.deliveredPerSecond / base.deliveredPerSecond, 2),
        p99Ratio: round(ring.p99Us / base.p99Us, 3),
        ring,
        postMessage: base,
      };
    });
}

function printTable(rows: ReturnType<typeof comparisons>): void {
  const head = [
    "frame",
    "cons",
    "mode",
    "ring fr/s",
    "post fr/s",
    "thr ×",
    "ring lost",
    "ring p50/p99/p99.9 µs",
    "post p50/p99/p99.9 µs",
    "p99 ring/post",
  ];
  const lines = rows.map((r) => [
    `${r.frame} ${r.frameBytes}B`,
    String(r.consumers),
    r.mode,
    r.ring.deliveredPerSecond.toLocaleString("en-US"),
    r.postMessage.deliveredPerSecond.toLocaleString("en-US"),
    r.throughputRatio.toFixed(2),
    `${(r.ring.lostRatio * 100).toFixed(1)}%`,
    `${r.ring.p50Us} / ${r.ring.p99Us} / ${r.ring.p999Us}`,
    `${r.postMessage.p50Us} / ${r.postMessage.p99Us} / ${r.postMessage.p999Us}`,
    r.p99Ratio.toFixed(3),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(fmt(head));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const l of lines) console.log(fmt(l));
}

async function main(): Promise<void> {
  const options = parseOptions();
  const results: Result[] = [];
  for (const scenario of scenarios(options)) {
    const result = await runScenario(scenario, options);
    results.push(result);
    if (!options.json) {
      const r = result;
      console.error(
        `${r.transport} ${r.frame} ×${r.consumers} ${r.mode}: ${r.deliveredPerSecond} fr/s, ` +
          `p99 ${r.p99Us} µs, lost ${r.lostRatio}`,
      );
    }
  }
  const rows = comparisons(results);
  const machine = {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
  };
  const settings = {
    durationS: options.durationS,
    spinMicros: options.spinMicros,
    batch: options.batch,
    ringCapacity: RING_CAPACITY,
    windowFrames: WINDOW_FRAMES,
  };
  if (options.json) console.log(JSON.stringify({ benchmark: "ring", machine, settings, results: rows }));
  else {
    console.log(
      `node ${machine.node}, ${machine.cpus} CPUs (${machine.cpuModel}), ${JSON.stringify(settings)}`,
    );
    printTable(rows);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
