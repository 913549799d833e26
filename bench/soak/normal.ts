/**
 * The soak's normal clients, in one process of their own (the hostile ones run elsewhere and cannot slow
 * this event loop): the publisher (normal-publisher.worker.ts, its own thread), 10 subscribers — `*` and
 * filtered, binary and JSON — and a client that asks for a short historical replay every few seconds.
 *
 * Each subscriber measures, for every tick of the normal publisher it receives, the one-way latency from
 * the tick's `ts_recv` (the daemon's stamp) and from its `ts_event` (the publisher's intended send time) to
 * the receive time, on the epoch clock of src/clock.ts (hrtime plus an offset each process reads at start:
 * the daemon's and this process's agree to within microseconds on one machine). A tick belongs to the phase
 * its `ts_event` falls in. `*` subscribers also check the seqs: each seq once, in order, any hole announced
 * by a `gap`.
 */
import { Worker } from "node:worker_threads";
import { encodeIntoCompressedBase64, type Histogram } from "hdr-histogram-js";
import WebSocket from "ws";
import { clockOffsetNs } from "../../src/clock.js";
import {
  frameLength,
  frameSeq,
  frameSymbolKey,
  frameTsEventApprox,
  frameTsRecvApprox,
  symbolKeyOf,
} from "../../src/frame/codec.js";
import {
  awaitSchedule,
  childConfig,
  cpuMeter,
  finish,
  hrNow,
  type Schedule,
  sleep,
  sleepUntil,
} from "./child.js";
import { newHistogram } from "./latency.js";
import type { NormalPublisherData, NormalPublisherResult } from "./normal-publisher.worker.js";
import { type Counts, Tally } from "./tally.js";

export interface NormalConfig {
  port: number;
  rate: number;
  symbols: string[];
}

export type PhaseName = "baseline" | "hostile";

/** What one subscriber saw in one phase. */
export interface PhaseLatency {
  frames: number;
  /** Receive − ts_recv, ns, HDR compressed base64. */
  fromRecv: string;
  /** Receive − ts_event (the publisher's intended send time), ns. */
  fromEvent: string;
}

export interface SubscriberResult {
  name: string;
  /** The share of the normal ticks it subscribed to (1 for `*`). */
  share: number;
  phases: Record<PhaseName, PhaseLatency>;
  /** Control messages and closes, counted. */
  counts: Counts;
  /** `*` only: seqs skipped without a gap message, seqs received twice or out of order. */
  missing: number;
  duplicates: number;
  /** Seqs announced by `gap` messages. */
  gapSeqs: number;
  /** Frames whose receive time was before their ts_recv (clock disagreement). */
  negative: number;
}

export interface NormalResult {
  subscribers: SubscriberResult[];
  publisher: NormalPublisherResult;
  /** The short replays of a normal client: outcomes and time to `replay_done`, per phase. */
  replays: Record<PhaseName, { counts: Counts; doneMs: number[] }>;
  cpu: number;
}

/** The fields of a JSON tick this client reads. */
interface JsonTick {
  seq: number;
  symbol: string;
  ts_recv: string;
  ts_event: string;
}

interface Spec {
  name: string;
  symbols: string[] | ["*"];
  json: boolean;
}

/**
 * After the end, frames still in flight are awaited until none came for {@link QUIET_MS}, at most
 * {@link DRAIN_MAX_MS}: a backlogged daemon's late frames count, with their latency.
 */
const QUIET_MS = 2000;
const DRAIN_MAX_MS = 30_000;
const REPLAY_EVERY_MS = 2000;
const REPLAY_FRAMES = 2000;
const REPLAY_TIMEOUT_MS = 10_000;

const config = childConfig<NormalConfig>();
const ours = new Set(config.symbols.map(symbolKeyOf));
const oursByName = new Set(config.symbols);
const epoch = clockOffsetNs();
const some = (n: number) => config.symbols.slice(0, n);
const SPECS: Spec[] = [
  { name: "*/binary/1", symbols: ["*"], json: false },
  { name: "*/binary/2", symbols: ["*"], json: false },
  { name: "*/binary/3", symbols: ["*"], json: false },
  { name: "*/json/1", symbols: ["*"], json: true },
  { name: "*/json/2", symbols: ["*"], json: true },
  { name: "1/json", symbols: some(1), json: true },
  { name: "5/binary", symbols: some(5), json: false },
  { name: "5/json", symbols: some(5), json: true },
  { name: "10/binary", symbols: some(10), json: false },
  { name: "25/binary", symbols: some(25), json: false },
];

/** Phase bounds on the epoch clock of ts_event; set once the schedule is known. */
let bounds = { baseline: 0, hostile: 0, end: 0 };
let recording = true;

class Subscriber {
  private readonly latency = {
    baseline: { frames: 0, fromRecv: newHistogram(), fromEvent: newHistogram() },
    hostile: { frames: 0, fromRecv: newHistogram(), fromEvent: newHistogram() },
  };
  private readonly tally = new Tally();
  private missing = 0;
  private duplicates = 0;
  private gapSeqs = 0;
  private negative = 0;
  /** `*`: the next seq expected, from the first live frame on (0: not live yet). */
  private expect = 0;
  private liveFrom = Number.MAX_SAFE_INTEGER;
  private ws: WebSocket | undefined;

  constructor(private readonly spec: Spec) {}

  async connect(): Promise<void> {
    const ws = new WebSocket(`ws://127.0.0.1:${config.port}/v1/feed`, { perMessageDeflate: false });
    this.ws = ws;
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const subscribed = new Promise<void>((resolve) => {
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        const now = Number(hrNow()) + Number(epoch);
        if (isBinary) this.onBinary(data, now);
        else if (this.onText(data.toString(), now)) resolve();
      });
    });
    ws.on("close", (code) => {
      if (!recording) return;
      // A normal subscriber should never be closed: count it, and subscribe again.
      this.tally.add("connection", `close:${code}`);
      this.expect = 0;
      this.liveFrom = Number.MAX_SAFE_INTEGER;
      setTimeout(
        () => this.connect().catch((err) => this.tally.add("reconnect", `failed:${err.message}`)),
        100,
      );
    });
    const { symbols, json } = this.spec;
    ws.send(JSON.stringify({ op: "subscribe", id: 1, symbols, format: json ? "json" : "flatbuffers" }));
    await subscribed;
  }

  close(): void {
    this.ws?.terminate();
  }

  /** Normal ticks recorded so far, both phases. */
  get frames(): number {
    return this.latency.baseline.frames + this.latency.hostile.frames;
  }

  result(): SubscriberResult {
    const phase = (p: PhaseName): PhaseLatency => ({
      frames: this.latency[p].frames,
      fromRecv: encodeIntoCompressedBase64(this.latency[p].fromRecv),
      fromEvent: encodeIntoCompressedBase64(this.latency[p].fromEvent),
    });
    const { name, symbols } = this.spec;
    return {
      name,
      share: symbols[0] === "*" ? 1 : symbols.length / config.symbols.length,
      phases: { baseline: phase("baseline"), hostile: phase("hostile") },
      counts: this.tally.counts,
      missing: this.missing,
      duplicates: this.duplicates,
      gapSeqs: this.gapSeqs,
      negative: this.negative,
    };
  }

  private onBinary(data: Buffer, now: number): void {
    for (let off = 0; off < data.length; off += frameLength(data, off)) {
      const seq = frameSeq(data, off);
      if (seq === 0) continue; // heartbeats
      this.checkSeq(seq);
      if (!ours.has(frameSymbolKey(data, off))) continue;
      this.record(now, frameTsRecvApprox(data, off), frameTsEventApprox(data, off));
    }
  }

  /** Returns true for the `subscribed` answer. */
  private onText(text: string, now: number): boolean {
    const msg = JSON.parse(text) as
      | JsonTick[]
      | {
          op?: string;
          seq?: number;
          from?: number;
          to?: number;
        };
    // Ticks come as a JSON array of one or more (docs/protocol.md); control messages as objects with an op.
    if (Array.isArray(msg)) {
      for (const tick of msg) {
        this.checkSeq(tick.seq);
        if (oursByName.has(tick.symbol)) this.record(now, Number(tick.ts_recv), Number(tick.ts_event));
      }
      return false;
    }
    if (msg.op === "heartbeat") return false;
    this.tally.add(
      "control",
      msg.op === "error" ? `error:${(msg as { code?: string }).code}` : String(msg.op),
    );
    if (msg.op === "gap") {
      this.gapSeqs += msg.to! - msg.from! + 1;
      if (this.expect !== 0 && msg.from! <= this.expect) this.expect = Math.max(this.expect, msg.to! + 1);
    }
    if (msg.op !== "subscribed") return false;
    if (this.spec.symbols[0] === "*") this.liveFrom = msg.seq! + 1;
    return true;
  }

  private checkSeq(seq: number): void {
    if (seq < this.liveFrom) return; // last values, before the live stream
    if (this.expect === 0) this.expect = this.liveFrom;
    if (seq < this.expect) this.duplicates++;
    else {
      this.missing += seq - this.expect;
      this.expect = seq + 1;
    }
  }

  private record(now: number, tsRecv: number, tsEvent: number): void {
    if (!recording || tsEvent < bounds.baseline || tsEvent >= bounds.end) return;
    const p = this.latency[tsEvent < bounds.hostile ? "baseline" : "hostile"];
    p.frames++;
    if (now < tsRecv) this.negative++;
    record(p.fromRecv, now - tsRecv);
    record(p.fromEvent, now - tsEvent);
  }
}

function record(h: Histogram, ns: number): void {
  h.recordValue(Math.min(60e9, Math.max(1, ns)));
}

/** Asks for a short historical replay every few seconds, as a normal client would; counts how each went. */
async function replayer(s: Schedule): Promise<NormalResult["replays"]> {
  const out: NormalResult["replays"] = {
    baseline: { counts: {}, doneMs: [] },
    hostile: { counts: {}, doneMs: [] },
  };
  const hostile = BigInt(s.hostileNs);
  const end = BigInt(s.endNs);
  await sleepUntil(BigInt(s.baselineNs));
  for (let t = hrNow(); t < end; t = hrNow()) {
    const phase = out[t < hostile ? "baseline" : "hostile"];
    const started = performance.now();
    const outcome = await replayOnce();
    phase.counts[outcome] = (phase.counts[outcome] ?? 0) + 1;
    if (outcome === "replay_done") phase.doneMs.push(Math.round(performance.now() - started));
    await sleep(REPLAY_EVERY_MS - (performance.now() - started));
  }
  return out;
}

/** One replay of the first {@link REPLAY_FRAMES} seqs: `replay_done`, `error:<code>`, or why not. */
async function replayOnce(): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${config.port}/v1/feed`, { perMessageDeflate: false });
  try {
    return await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve("timeout"), REPLAY_TIMEOUT_MS);
      ws.once("error", (err: NodeJS.ErrnoException) => resolve(`socket:${err.code ?? err.message}`));
      ws.once("close", (code) => resolve(`close:${code}`));
      ws.once("open", () =>
        ws.send(
          JSON.stringify({
            op: "subscribe",
            id: 1,
            symbols: ["*"],
            feed: "historical",
            from: { seq: 1 },
            to: { seq: REPLAY_FRAMES },
          }),
        ),
      );
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        if (isBinary) return;
        const msg = JSON.parse(data.toString()) as { op: string; code?: string };
        if (msg.op === "replay_done" || msg.op === "error") {
          clearTimeout(timer);
          resolve(msg.op === "error" ? `error:${msg.code}` : msg.op);
        }
      });
    });
  } finally {
    ws.terminate();
  }
}

const subscribers = SPECS.map((spec) => new Subscriber(spec));
const received = () => subscribers.reduce((n, s) => n + s.frames, 0);
for (const s of subscribers) await s.connect();
const schedule = await awaitSchedule();
const cpu = cpuMeter();
bounds = {
  baseline: Number(BigInt(schedule.baselineNs) + epoch),
  hostile: Number(BigInt(schedule.hostileNs) + epoch),
  end: Number(BigInt(schedule.endNs) + epoch),
};
const data: NormalPublisherData = { port: config.port, rate: config.rate, symbols: config.symbols, schedule };
const publisher = new Worker(new URL("./normal-publisher.worker.js", import.meta.url), { workerData: data });
const published = new Promise<NormalPublisherResult>((resolve, reject) => {
  publisher.once("message", resolve);
  publisher.once("error", reject);
});
const replays = await replayer(schedule);
await sleepUntil(BigInt(schedule.endNs));
const drainUntil = performance.now() + DRAIN_MAX_MS;
for (let last = -1, now = received(); now !== last && performance.now() < drainUntil; now = received()) {
  last = now;
  await sleep(QUIET_MS);
}
recording = false;
for (const s of subscribers) s.close();
await finish({
  subscribers: subscribers.map((s) => s.result()),
  publisher: await published,
  replays,
  cpu: cpu(),
} satisfies NormalResult);
