/**
 * Memory hunters. A publisher that invents a new symbol for every tick (every per-symbol structure of the
 * daemon grows with it: last values, conflation, the store's symbol index); connections that hold the
 * per-connection limits (`--max-subscriptions` subscriptions, `--max-symbols` symbols) and ask for one more
 * of each; a connection that swaps a subscription of `--max-symbols` symbols in and out; and one that
 * subscribes to `*` in JSON and unsubscribes again, over and over (each such subscription starts with the
 * last value of every symbol the worker has seen).
 */
import type WebSocket from "ws";
import { FrameEncoder } from "../../../src/frame/codec.js";
import { finish, hostilePhase, hrNow, sleep } from "../child.js";
import { type Counts, Tally } from "../tally.js";
import { openSocket, outcomeOf, type Target } from "./sockets.js";

export interface SymbolsConfig {
  target: Target;
  /** New symbols per second. */
  rate: number;
  /** Connections holding the per-connection limits. */
  atLimits: number;
  /** The daemon's `--max-subscriptions` and `--max-symbols`. */
  maxSubscriptions: number;
  maxSymbols: number;
}

export interface SymbolsResult {
  counts: Counts;
  invented: number;
  acked: number;
  cpu: number;
}

const TICKS_PER_MESSAGE = 100;

const { config, end, cpu } = await hostilePhase<SymbolsConfig>();
const tally = new Tally();
let invented = 0;
let acked = 0;

const symbolOf = (n: number) => `INV${n.toString(36)}`;

/** Counts every control message of `ws` under `label`; `onOp` sees each. */
function listen(ws: WebSocket, label: string, onOp?: (outcome: string) => void): void {
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    const outcome = outcomeOf(data.toString());
    if (outcome === "frame" || outcome === "heartbeat") return;
    tally.add(label, outcome);
    onOp?.(outcome);
  });
  ws.on("close", (code) => {
    if (hrNow() < end) tally.add(label, `closed-by-daemon:${code}`);
  });
}

/** Ticks of new symbols, alternately JSON and binary messages of {@link TICKS_PER_MESSAGE}. */
async function invent(): Promise<void> {
  const label = "ingest/new-symbol-per-tick";
  const ws = await openSocket(config.target, "/v1/ingest", tally, label);
  if (ws === undefined) return;
  listen(ws, label, (outcome) => {
    if (outcome === "ack") acked += TICKS_PER_MESSAGE;
  });
  const encoder = new FrameEncoder();
  const everyMs = (1000 * TICKS_PER_MESSAGE) / config.rate;
  for (let m = 0; hrNow() < end && ws.readyState === ws.OPEN; m++) {
    const first = invented;
    invented += TICKS_PER_MESSAGE;
    if (m % 2 === 0) {
      const ticks = Array.from({ length: TICKS_PER_MESSAGE }, (_, i) => ({
        type: "quote",
        symbol: symbolOf(first + i),
        bid_price: 1,
        bid_size: 1,
        ask_price: 2,
        ask_size: 1,
      }));
      ws.send(JSON.stringify(ticks));
    } else {
      const frames = Array.from({ length: TICKS_PER_MESSAGE }, (_, i) =>
        Buffer.from(
          encoder.encode({ type: "trade", symbol: symbolOf(first + i), price: 1, size: 1 }, 0n, 0n),
        ),
      );
      ws.send(Buffer.concat(frames));
    }
    await sleep(everyMs);
  }
  ws.close();
}

/** Takes every subscription and symbol a connection may hold, asks for one more of each, then swaps one. */
async function holdLimits(k: number): Promise<void> {
  const label = "feed/at-limits";
  const ws = await openSocket(config.target, "/v1/feed", tally, label);
  if (ws === undefined) return;
  listen(ws, label);
  const per = Math.floor(config.maxSymbols / config.maxSubscriptions);
  const symbols = (id: number) =>
    Array.from({ length: per }, (_, i) => symbolOf((k * 1e6 + id * per + i) % 5e6));
  for (let id = 1; id <= config.maxSubscriptions; id++) {
    ws.send(JSON.stringify({ op: "subscribe", id, symbols: symbols(id) }));
  }
  // One subscription past the limit, then one symbol past it (after freeing a subscription slot).
  ws.send(JSON.stringify({ op: "subscribe", id: config.maxSubscriptions + 1, symbols: ["ONE.MORE"] }));
  ws.send(JSON.stringify({ op: "unsubscribe", id: 1 }));
  ws.send(JSON.stringify({ op: "subscribe", id: 1, symbols: [...symbols(1), "ONE.MORE"] }));
  for (let round = 0; hrNow() < end && ws.readyState === ws.OPEN; round++) {
    await sleep(500);
    const id = 2 + (round % (config.maxSubscriptions - 1));
    ws.send(JSON.stringify({ op: "unsubscribe", id }));
    ws.send(JSON.stringify({ op: "subscribe", id, symbols: symbols(id + round) }));
  }
  ws.close();
}

/**
 * Subscribes with `request` (id 1), and unsubscribes a second later, over and over: each subscription
 * starts with the last value of each of its symbols.
 */
async function resubscribe(label: string, request: Record<string, unknown>): Promise<void> {
  const ws = await openSocket(config.target, "/v1/feed", tally, label);
  if (ws === undefined) return;
  listen(ws, label);
  const text = JSON.stringify({ op: "subscribe", id: 1, ...request });
  tally.add(label, `request-bytes:${Math.ceil(text.length / 1024)}KiB`);
  while (hrNow() < end && ws.readyState === ws.OPEN) {
    ws.send(text);
    await sleep(1000);
    ws.send(JSON.stringify({ op: "unsubscribe", id: 1 }));
  }
  ws.close();
}

await Promise.all([
  invent(),
  ...Array.from({ length: config.atLimits }, (_, k) => holdLimits(k)),
  // One subscription of `--max-symbols` symbols, and `*` in JSON.
  resubscribe("feed/max-symbols-one-subscription", {
    symbols: Array.from({ length: config.maxSymbols }, (_, i) => symbolOf(i * 7)),
  }),
  resubscribe("feed/*-json-subscribe-unsubscribe", { symbols: ["*"], format: "json" }),
]);
await finish({ counts: tally.counts, invented, acked, cpu: cpu() } satisfies SymbolsResult);
