/**
 * Clients that never read. Subscribers to `*` under each slow-consumer policy (drop, conflate,
 * disconnect; binary and JSON) subscribe, then pause their socket for the whole hostile phase; publishers
 * send small valid ticks and never read their acks; "slowloris" connections send an HTTP upgrade request
 * one header line every few seconds and never finish it. At the end the stalled subscribers read again for
 * a moment, to count what the daemon told them (gaps, close codes).
 */
import type { Socket } from "node:net";
import type WebSocket from "ws";
import { finish, hostilePhase, hrNow, sleep, sleepUntil } from "../child.js";
import { type Counts, Tally } from "../tally.js";
import { openSocket, openTcp, outcomeOf, rawSocketOf, type Target } from "./sockets.js";

export interface StalledConfig {
  target: Target;
  /** Stalled `*` subscribers per policy. */
  perPolicy: number;
  publishers: number;
  slowloris: number;
}

export interface StalledResult {
  counts: Counts;
  cpu: number;
}

const POLICIES = ["drop", "conflate", "disconnect"] as const;
/** How long the stalled subscribers read at the end. */
const READ_AT_END_MS = 5000;
const SLOWLORIS_LINE_MS = 2000;

const { config, end, cpu } = await hostilePhase<StalledConfig>();
const tally = new Tally();
const stalled: WebSocket[] = [];
const publishers: WebSocket[] = [];
const timers: NodeJS.Timeout[] = [];
const lorises: Socket[] = [];
let terminating = false;

/** A `*` subscriber that stops reading once subscribed. */
async function stall(policy: string, json: boolean): Promise<void> {
  const label = `subscriber/${policy}/${json ? "json" : "binary"}`;
  const ws = await openSocket(config.target, "/v1/feed", tally, label);
  if (ws === undefined) return;
  let subscribed = false;
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    const outcome = outcomeOf(data.toString());
    if (outcome === "subscribed") subscribed = true;
    else if (outcome !== "frame" && outcome !== "heartbeat") tally.add(label, outcome);
  });
  ws.on("close", (code) => {
    if (!terminating) tally.add(label, `closed-by-daemon:${code}`);
  });
  const format = json ? "json" : "flatbuffers";
  ws.send(JSON.stringify({ op: "subscribe", id: 1, symbols: ["*"], policy, format }));
  for (let i = 0; i < 500 && !subscribed; i++) await sleep(10);
  // Stalled either way: a subscription the daemon answers late is as good a weight on it.
  tally.add(label, subscribed ? "subscribed-then-stalled" : "stalled-before-the-subscribed-answer");
  rawSocketOf(ws).pause();
  stalled.push(ws);
}

/** A publisher that never reads its acks. */
async function deafPublisher(): Promise<void> {
  const label = "publisher-never-reading";
  const ws = await openSocket(config.target, "/v1/ingest", tally, label);
  if (ws === undefined) return;
  rawSocketOf(ws).pause();
  publishers.push(ws);
  ws.on("close", (code) => {
    if (!terminating) tally.add(label, `closed-by-daemon:${code}`);
  });
  let n = 0;
  timers.push(
    setInterval(() => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(JSON.stringify({ type: "trade", symbol: "STALLPUB", price: 1, size: ++n }));
      tally.add(label, "sent");
    }, 20),
  );
}

/** An upgrade request that never ends: one header line every few seconds. */
function slowloris(): void {
  const label = "slowloris";
  const s = openTcp(config.target);
  const opened = performance.now();
  lorises.push(s);
  s.on("error", (err: NodeJS.ErrnoException) => tally.add(label, `socket:${err.code ?? err.message}`));
  s.on("data", () => tally.add(label, "got-bytes"));
  s.on("close", () => {
    if (hrNow() >= end) return;
    const after = (performance.now() - opened) / 1000;
    tally.add(label, `closed-by-server-after-${after < 15 ? "<15" : after < 60 ? "15-60" : ">60"}s`);
  });
  s.write("GET /v1/feed HTTP/1.1\r\n");
  let n = 0;
  const timer = setInterval(() => {
    if (!s.destroyed) s.write(`X-Slow-${n++}: ${"a".repeat(10)}\r\n`);
  }, SLOWLORIS_LINE_MS);
  timers.push(timer);
  tally.add(label, "opened");
}

for (let i = 0; i < config.slowloris; i++) slowloris();
await Promise.all(Array.from({ length: config.publishers }, () => deafPublisher()));
// All at once: one after the other, a daemon slow to answer would let only a few in before the end.
await Promise.all(
  Array.from({ length: config.perPolicy }, (_, i) =>
    POLICIES.map((policy) => stall(policy, i % 4 === 3)),
  ).flat(),
);
await sleepUntil(end);
for (const t of timers) clearInterval(t);
for (const s of lorises) s.destroy();
// What the daemon said to the stalled subscribers while they did not read (their handlers count it).
for (const ws of stalled) rawSocketOf(ws).resume();
await sleep(READ_AT_END_MS);
terminating = true;
for (const ws of [...stalled, ...publishers]) ws.terminate();
await finish({ counts: tally.counts, cpu: cpu() } satisfies StalledResult);
