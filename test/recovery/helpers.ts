/**
 * Helpers of the recovery tests: a publisher whose ticks are told apart by content (each tick's `size` is a
 * unique id), the WAL of a data dir read back as frames, byte damage, and the CLI as a child process.
 */
import { execFile } from "node:child_process";
import { FrameView, frameLength } from "../../src/frame/codec.js";
import { frameToObject } from "../../src/frame/json.js";
import { openWalReader } from "../../src/storage/index.js";
import { Client } from "../support/daemon.js";

const CLI = new URL("../../src/cli/main.js", import.meta.url).pathname;
const SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN"];

/** A tick as the test sent it, identified by `id` (sent as its size). */
export interface SentTick {
  id: number;
  symbol: string;
  price: number;
}

/** Tick ids are unique across a whole test (all daemons, all cycles). */
let nextId = 1;

/**
 * Publishes JSON ticks on /v1/ingest and records which were acked, with their seqs: an ack names the seq of
 * its message's last tick, and a message's ticks get consecutive seqs, so every acked tick's seq is known.
 */
export class Publisher {
  /** seq → the tick acked there. */
  readonly acked = new Map<number, SentTick>();
  /** Ids of every tick sent, acked or not. */
  readonly sentIds: number[] = [];
  private readonly inFlight: SentTick[][] = [];
  private running = false;
  private loop: Promise<void> | undefined;

  private constructor(private readonly client: Client) {
    client.ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const msg = JSON.parse(data.toString()) as { op: string; seq?: number };
      if (msg.op !== "ack") return;
      const ticks = this.inFlight.shift()!;
      ticks.forEach((t, i) => {
        this.acked.set(msg.seq! - ticks.length + 1 + i, t);
      });
    });
    // A kill -9 of the daemon breaks the socket: expected, nothing to report.
    client.ws.on("error", () => {});
  }

  static async connect(url: string): Promise<Publisher> {
    return new Publisher(await Client.connect(url));
  }

  /** Sends one message of `n` new ticks. */
  send(n: number): void {
    const ticks: SentTick[] = [];
    for (let i = 0; i < n; i++) {
      const id = nextId++;
      ticks.push({ id, symbol: SYMBOLS[id % SYMBOLS.length], price: 100 + (id % 1000) / 8 });
      this.sentIds.push(id);
    }
    this.inFlight.push(ticks);
    this.client.send(ticks.map((t) => ({ type: "trade", symbol: t.symbol, price: t.price, size: t.id })));
  }

  /** Keeps sending messages of 1–`maxTicks` ticks, one per event-loop turn, until {@link stop}. */
  start(maxTicks = 20): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running && this.client.ws.readyState === this.client.ws.OPEN) {
        this.send(1 + Math.floor(Math.random() * maxTicks));
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
  }

  /** Stops sending (and waits for the loop to notice). */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Waits until at least `n` ticks are acked. */
  async ackedAtLeast(n: number): Promise<void> {
    await this.client.until(() => this.acked.size >= n, `${n} acked ticks`);
  }

  /** Waits until every message sent so far is acked. */
  async drain(): Promise<void> {
    await this.client.until(() => this.inFlight.length === 0, "acks of every message sent");
  }

  close(): void {
    this.client.close();
  }
}

/** Every frame of a WAL directory from seq 1, as copies, in seq order. */
export function readWal(walDir: string): Buffer[] {
  const r = openWalReader(walDir, 1);
  const out: Buffer[] = [];
  try {
    for (let b = r.nextSync(); b !== null; b = r.nextSync()) {
      for (let i = 0; i < b.count; i++) {
        const o = b.offsets[i];
        out.push(Buffer.from(b.bytes.subarray(o, o + frameLength(b.bytes, o))));
      }
    }
  } finally {
    r.close();
  }
  return out;
}

const view = new FrameView();

/** What the test sent as the tick in `frame`, plus its seq. */
export function tickOf(frame: Uint8Array): SentTick & { seq: number } {
  const f = frameToObject(view.wrap(frame));
  return { seq: f.seq, id: f.size as number, symbol: f.symbol, price: f.price as number };
}

/** A random integer in [0, n). */
export function randomInt(n: number): number {
  return Math.floor(Math.random() * n);
}

/**
 * `tickring ...args`; resolves with the exit code and output (never rejects on a non-zero exit). With
 * `timeoutMs`, a run still going then is killed (SIGKILL) and `timedOut` is true.
 */
export function cli(
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const opts = { timeout: options.timeoutMs ?? 0, killSignal: "SIGKILL" as const };
    execFile(process.execPath, [CLI, ...args], opts, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
      resolve({ code, stdout, stderr, timedOut: err?.killed === true });
    });
  });
}

/** The seq a daemon resumed at, from its "tickring serving" log line. */
export function resumedSeq(logs: Record<string, unknown>[]): number {
  return logs.find((l) => l.msg === "tickring serving")!.seq as number;
}
