/**
 * A replay storm: connections that each open as many historical replays as a connection may
 * (`--max-replays`, 8) — from seq 1 or later, at `speed` max, 1 or 1000, some turning live — read them for a
 * while or stall (stop reading, so each replay sits on its buffer), then abandon them: unsubscribe, close,
 * or drop the connection. Together the connections ask for more replays than the workers may run
 * (`--max-replays-per-worker`), so the daemon has to refuse some (LIMIT_REACHED); some connections also ask
 * for one replay past their own limit.
 */
import WebSocket from "ws";
import { finish, hostilePhase, hrNow, sleep } from "../child.js";
import { type Counts, Tally } from "../tally.js";
import { Random } from "./random.js";
import { openSocket, outcomeOf, rawSocketOf, type Target } from "./sockets.js";

export interface ReplayStormConfig {
  target: Target;
  seed: number;
  /** Connections replaying at once. */
  connections: number;
  /** The daemon's `--max-replays` (per connection). */
  perConnection: number;
}

export interface ReplayStormResult {
  counts: Counts;
  /** Replays asked for, and bytes of frames read. */
  requested: number;
  bytesRead: number;
  cpu: number;
}

const { config, end, cpu } = await hostilePhase<ReplayStormConfig>();
const tally = new Tally();
let requested = 0;
let bytesRead = 0;

function replayRequest(rng: Random, id: number): Record<string, unknown> {
  const speed = rng.pick<"max" | number>(["max", "max", 1, 1000]);
  const from = rng.chance(0.7) ? 1 : rng.between(1, 200_000);
  const live = rng.chance(0.25);
  return {
    op: "subscribe",
    id,
    symbols: ["*"],
    feed: "historical",
    from: { seq: from },
    speed,
    ...(live ? { live } : {}),
  };
}

/** One connection's storm, then the next, until the end. */
async function stormer(rng: Random): Promise<void> {
  while (hrNow() < end) {
    const stall = rng.chance(0.5);
    const label = stall ? "replays/stalled" : "replays/read";
    const ws = await openSocket(config.target, "/v1/feed", tally, label);
    if (ws === undefined) {
      await sleep(200);
      continue;
    }
    let leaving = false;
    /** Replays the daemon accepted and has not ended: the ones to unsubscribe. */
    const running = new Set<number>();
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        bytesRead += data.length;
        return;
      }
      const text = data.toString();
      const outcome = outcomeOf(text);
      if (outcome === "frame" || outcome === "heartbeat") return;
      tally.add(label, outcome);
      const { id } = JSON.parse(text) as { id?: number };
      if (id === undefined) return;
      if (outcome === "subscribed") running.add(id);
      else if (outcome === "replay_done" || outcome.startsWith("error:")) running.delete(id);
    });
    const closed = new Promise<void>((r) =>
      ws.once("close", (code) => {
        if (!leaving) tally.add(label, `closed-by-daemon:${code}`);
        r();
      }),
    );
    const asks = config.perConnection + (rng.chance(0.25) ? 1 : 0);
    for (let id = 1; id <= asks; id++) ws.send(JSON.stringify(replayRequest(rng, id)));
    requested += asks;
    if (stall) rawSocketOf(ws).pause();
    await sleep(stall ? rng.between(1000, 5000) : rng.between(300, 3000));
    const leave = rng.int(3);
    if (leave === 0 && !stall) {
      for (const id of running) ws.send(JSON.stringify({ op: "unsubscribe", id }));
      await sleep(50);
    }
    leaving = true;
    if (leave === 2 || stall) ws.terminate();
    else ws.close();
    await Promise.race([closed, sleep(2000)]);
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  }
}

const root = new Random(config.seed);
await Promise.all(Array.from({ length: config.connections }, () => stormer(new Random(root.int(2 ** 32)))));
await finish({ counts: tally.counts, requested, bytesRead, cpu: cpu() } satisfies ReplayStormResult);
