/**
 * The fuzzing process: connections to `/v1/ingest` and `/v1/feed` that send hostile inputs (inputs.ts) at a
 * steady rate, reconnecting whenever the daemon closes them. Every answer is counted under the kind of input
 * it answers (answers come in request order). An `INTERNAL` error, a 1011 close, or a 1006 close (no close
 * frame) after an input that should have had a clean refusal is kept with the input's bytes, so it can be
 * replayed by hand; so are the last inputs sent before the daemon stopped accepting connections.
 */
import WebSocket from "ws";
import { finish, hostilePhase, hrNow, sleep } from "../child.js";
import { type Counts, Tally } from "../tally.js";
import { feedInput, ingestInput, type Input } from "./inputs.js";
import { Random } from "./random.js";
import { openSocket, outcomeOf, type Target } from "./sockets.js";

export interface FuzzConfig {
  target: Target;
  seed: number;
  ingestConnections: number;
  feedConnections: number;
  /** Messages per second per connection. */
  rate: number;
}

/** An input that got an answer a correct daemon never gives. */
export interface Suspicious {
  endpoint: string;
  kind: string;
  outcome: string;
  bytes: number;
  /** The input's first 512 bytes, base64. */
  head: string;
}

export interface FuzzResult {
  counts: Counts;
  sent: number;
  suspicious: Suspicious[];
  /** Inputs sent last before the daemon refused connections (kind and first bytes), if it did. */
  beforeRefusal: Suspicious[] | null;
  cpu: number;
}

/**
 * An input waits for the previous one's answer (so each answer, a close included, is the answer to one
 * known input); an input not answered within this time is counted as ignored.
 */
const ANSWER_MS = 10_000;
const KEEP_SUSPICIOUS = 20;
/** 1006 (cut without a close frame) is the expected answer to these: uWS cuts them itself (routes.ts). */
const CUT_BY_UWS = new Set(["bad-utf8-text", "over-uws-ceiling"]);

const { config, end, cpu } = await hostilePhase<FuzzConfig>();
const tally = new Tally();
const suspicious: Suspicious[] = [];
const recent: Suspicious[] = [];
let beforeRefusal: Suspicious[] | null = null;
let sent = 0;

function describe(endpoint: string, input: Input, outcome: string): Suspicious {
  const bytes = typeof input.data === "string" ? Buffer.from(input.data) : input.data;
  return {
    endpoint,
    kind: input.kind,
    outcome,
    bytes: bytes.length,
    head: bytes.subarray(0, 512).toString("base64"),
  };
}

function isSuspicious(input: Input, outcome: string): boolean {
  return (
    outcome === "error:INTERNAL" ||
    outcome === "close:1011" ||
    outcome === "unparsable-reply" ||
    (outcome === "close:1006" && !CUT_BY_UWS.has(input.kind))
  );
}

/** One connection after another on `path`, sending `next()` until the end. */
async function fuzzConnections(
  path: string,
  next: (rng: Random, n: number) => Input,
  rng: Random,
): Promise<void> {
  const label = path.slice(4);
  for (let n = 0; hrNow() < end;) {
    const ws = await openSocket(config.target, path, tally, label);
    if (ws === undefined) {
      if (beforeRefusal === null && tally.total("socket:ECONNREFUSED") > 0) beforeRefusal = [...recent];
      await sleep(100);
      continue;
    }
    let pending: Input | undefined;
    let answered: () => void = () => {};
    let closed = false;
    const answer = (outcome: string) => {
      const input = pending;
      pending = undefined;
      answered();
      if (input === undefined) {
        tally.add(`${label}/unprompted`, outcome);
        return;
      }
      tally.add(`${label}/${input.kind}`, outcome);
      if (isSuspicious(input, outcome) && suspicious.length < KEEP_SUSPICIOUS) {
        suspicious.push(describe(label, input, outcome));
      }
    };
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) return; // frames of a subscription some input opened
      const outcome = outcomeOf(data.toString());
      // Frames and server-initiated messages answer no request.
      if (outcome === "frame" || outcome === "heartbeat" || outcome === "gap" || outcome === "replay_done")
        return;
      answer(outcome);
    });
    const gone = new Promise<void>((resolve) =>
      ws.once("close", (code) => {
        closed = true;
        if (pending !== undefined) answer(`close:${code}`);
        else if (hrNow() < end) tally.add(`${label}/between-inputs`, `close:${code}`);
        resolve();
      }),
    );
    while (!closed && hrNow() < end) {
      const input = next(rng, ++n);
      pending = input;
      recent.push(describe(label, input, "sent"));
      if (recent.length > KEEP_SUSPICIOUS) recent.shift();
      sent++;
      const sentAt = performance.now();
      const reply = new Promise<void>((r) => (answered = r));
      ws.send(input.data, { binary: input.binary });
      await Promise.race([reply, sleep(ANSWER_MS)]);
      if (pending === input) {
        pending = undefined;
        tally.add(`${label}/${input.kind}`, `no-answer-in-${ANSWER_MS}ms`);
      }
      await sleep(1000 / config.rate - (performance.now() - sentAt));
    }
    if (!closed) ws.close();
    await Promise.race([gone, sleep(1000)]);
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  }
}

const root = new Random(config.seed);
const runs: Promise<void>[] = [];
for (let i = 0; i < config.ingestConnections; i++) {
  runs.push(fuzzConnections("/v1/ingest", (rng) => ingestInput(rng), new Random(root.int(2 ** 32))));
}
for (let i = 0; i < config.feedConnections; i++) {
  runs.push(fuzzConnections("/v1/feed", (rng, n) => feedInput(rng, n), new Random(root.int(2 ** 32))));
}
await Promise.all(runs);
await finish({ counts: tally.counts, sent, suspicious, beforeRefusal, cpu: cpu() } satisfies FuzzResult);
