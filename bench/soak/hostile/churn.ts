/**
 * Connection churn: `total` connections opened at a steady pace over the hostile phase, each subscribing to
 * something (a few symbols, `*` in binary or JSON, the delayed feed, a short history range) or publishing
 * one tick, and leaving — politely, abruptly (terminate right after the request, a TCP reset halfway
 * through the upgrade request, half a WebSocket frame), or as plain HTTP requests. At the end it checks the
 * daemon still admits a full `--max-connections-per-ip` from this address: a connection the daemon forgot
 * to release would lower it.
 */
import { request } from "node:http";
import WebSocket from "ws";
import { finish, hostilePhase, hrNow, sleep, sleepUntil } from "../child.js";
import { type Counts, Tally } from "../tally.js";
import { Random } from "./random.js";
import { openSocket, openTcp, outcomeOf, type Target, upgradeRequest } from "./sockets.js";

export interface ChurnConfig {
  target: Target;
  seed: number;
  /** Connections over the phase. */
  total: number;
  /** The daemon's `--max-connections-per-ip`, checked at the end. */
  perAddressLimit: number;
  /** Symbols the normal publisher sends, for realistic subscriptions. */
  symbols: string[];
}

export interface ChurnResult {
  counts: Counts;
  /** Connections planned, and started (fewer when the daemon is slow to let the open ones go). */
  planned: number;
  opened: number;
  /**
   * Connections this address could hold at once at the end (expected: the per-address limit; fewer with
   * `refusedAtEndWith` null means the check ran out of time).
   */
  admittedAtEnd: number;
  /** What refused the connection past them. */
  refusedAtEndWith: string | null;
  cpu: number;
}

/** Churn connections open at once, at most (well below the per-address limit). */
const MAX_OPEN = 200;
/** The end check opens connections this many at a time, for at most this long. */
const END_CHECK_BATCH = 50;
const END_CHECK_MS = 20_000;

const { config, end, cpu } = await hostilePhase<ChurnConfig>();
const start = hrNow();
const tally = new Tally();
const rng = new Random(config.seed);
let open = 0;

/** A WebSocket session on /v1/feed: sends `request`, reads for `readMs`, then leaves as `leave` says. */
async function feedSession(
  label: string,
  request: Record<string, unknown>,
  readMs: number,
  leave: "close" | "terminate-at-once" | "terminate",
): Promise<void> {
  const ws = await openSocket(config.target, "/v1/feed", tally, label);
  if (ws === undefined) return;
  tally.add(label, "opened");
  let done = false;
  let leaving = false;
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    const outcome = outcomeOf(data.toString());
    if (outcome === "frame" || outcome === "heartbeat") return;
    tally.add(label, outcome);
    if (outcome === "replay_done") done = true;
  });
  const closed = new Promise<void>((r) =>
    ws.once("close", (code) => {
      // Only the daemon's closes tell something; ours are counted as what we did.
      if (!leaving) tally.add(label, `closed-by-daemon:${code}`);
      r();
    }),
  );
  ws.send(JSON.stringify(request));
  if (leave === "terminate-at-once") {
    leaving = true;
    ws.terminate();
    return;
  }
  const until = performance.now() + readMs;
  while (!done && performance.now() < until && ws.readyState === WebSocket.OPEN) await sleep(20);
  leaving = true;
  tally.add(label, `left:${leave}`);
  if (leave === "terminate") ws.terminate();
  else ws.close();
  await Promise.race([closed, sleep(2000)]);
}

/** A raw TCP client that stops halfway: through the upgrade request, or through a WebSocket frame. */
async function cutMidRequest(label: string, midFrame: boolean): Promise<void> {
  const s = openTcp(config.target);
  s.on("error", () => {});
  const text = upgradeRequest("/v1/feed", config.target.port);
  if (!midFrame) {
    s.write(text.slice(0, rng.between(1, text.length - 1)));
    await sleep(rng.between(0, 50));
    if (rng.chance(0.5)) s.resetAndDestroy();
    else s.destroy();
    tally.add(label, "cut");
    return;
  }
  s.write(text);
  const upgraded = await new Promise<boolean>((resolve) => {
    s.once("data", (d: Buffer) => resolve(d.toString().startsWith("HTTP/1.1 101")));
    s.once("close", () => resolve(false));
  });
  tally.add(label, upgraded ? "upgraded" : "not-upgraded");
  // A masked text frame announcing 1000 bytes, of which 10 come.
  const header = Buffer.from([0x81, 0xfe, 0x03, 0xe8, 1, 2, 3, 4]);
  s.write(Buffer.concat([header, Buffer.alloc(10, 0x61)]));
  await sleep(rng.between(0, 50));
  s.resetAndDestroy();
}

/** A publisher that sends one tick and leaves before its ack. */
async function publishAndLeave(label: string): Promise<void> {
  const ws = await openSocket(config.target, "/v1/ingest", tally, label);
  if (ws === undefined) return;
  tally.add(label, "opened");
  ws.send(JSON.stringify({ type: "trade", symbol: "CHURN", price: 1, size: 1 }));
  ws.close();
}

/** One plain HTTP request. */
function httpGet(label: string, path: string): Promise<void> {
  return new Promise((resolve) => {
    const req = request(
      { host: "127.0.0.1", port: config.target.port, path, localAddress: config.target.from, agent: false },
      (res) => {
        tally.add(`${label} ${path}`, `http:${res.statusCode}`);
        res.resume();
        res.once("end", resolve);
      },
    );
    req.once("error", (err: NodeJS.ErrnoException) => {
      tally.add(`${label} ${path}`, `socket:${err.code ?? err.message}`);
      resolve();
    });
    req.end();
  });
}

function someSymbols(): string[] {
  return Array.from({ length: rng.between(1, 20) }, () =>
    rng.chance(0.8) ? rng.pick(config.symbols) : `CH${rng.int(100_000)}`,
  );
}

/** One churn connection, of a randomly chosen kind. */
function session(): Promise<void> {
  const r = rng.int(100);
  const readMs = rng.between(50, 1000);
  const leave = rng.chance(0.3) ? "terminate" : "close";
  const sub = { op: "subscribe", id: 1 };
  if (r < 30) return feedSession("feed/symbols", { ...sub, symbols: someSymbols() }, readMs, leave);
  if (r < 40) return feedSession("feed/*", { ...sub, symbols: ["*"] }, readMs, leave);
  if (r < 45) return feedSession("feed/*/json", { ...sub, symbols: ["*"], format: "json" }, readMs, leave);
  if (r < 50) return feedSession("feed/delayed", { ...sub, symbols: ["*"], feed: "delayed" }, readMs, leave);
  if (r < 60) {
    const from = rng.between(1, 100_000);
    const history = {
      ...sub,
      symbols: someSymbols(),
      feed: "historical",
      from: { seq: from },
      to: { seq: from + 500 },
    };
    return feedSession("feed/history", history, readMs, leave);
  }
  if (r < 70)
    return feedSession("feed/terminated-after-request", { ...sub, symbols: ["*"] }, 0, "terminate-at-once");
  if (r < 78) return cutMidRequest("tcp/cut-mid-upgrade", false);
  if (r < 85) return cutMidRequest("tcp/cut-mid-frame", true);
  if (r < 90) return publishAndLeave("ingest/leave-before-ack");
  return httpGet("http", rng.pick(["/healthz", "/metrics", "/v1/stats", "/nope"]));
}

let opened = 0;
const running = new Set<Promise<void>>();
const phaseNs = Number(end - start);
for (; opened < config.total && hrNow() < end; opened++) {
  await sleepUntil(start + BigInt(Math.round((opened / config.total) * phaseNs)));
  while (open >= MAX_OPEN) await sleep(5);
  open++;
  const p = session()
    .catch((err: Error) => tally.add("session", `threw:${err.message}`))
    .finally(() => {
      open--;
      running.delete(p);
    });
  running.add(p);
}
await Promise.race([Promise.all(running), sleep(3000)]);
// Closes the daemon has not seen yet would count against the address for a moment.
await sleep(1000);

// The per-address count must be back to zero: the address can hold its full limit again. Opened in
// batches, within a time bound (a daemon still busy with the phase's backlog may take long to upgrade).
const held: WebSocket[] = [];
const check = new Tally();
const checkUntil = performance.now() + END_CHECK_MS;
while (held.length <= config.perAddressLimit && performance.now() < checkUntil) {
  const batch = await Promise.all(
    Array.from({ length: END_CHECK_BATCH }, () => openSocket(config.target, "/v1/feed", check, "end-check")),
  );
  const admitted = batch.filter((ws) => ws !== undefined);
  held.push(...admitted);
  if (admitted.length < batch.length) break;
}
for (const ws of held) ws.terminate();
await finish({
  counts: tally.counts,
  planned: config.total,
  opened,
  admittedAtEnd: held.length,
  refusedAtEndWith: Object.keys(check.counts)[0]?.split(" → ")[1] ?? null,
  cpu: cpu(),
} satisfies ChurnResult);
