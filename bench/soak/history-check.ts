/**
 * The soak's durability check: after the load, every tick the daemon acked must be in its history exactly
 * once, at the seq its ack implied. History is read from seq 1 with the real client (`tickring/client`, a
 * historical `*` replay at max speed) and each normal tick is found by its trade id. A tick present but
 * never acked (in flight at the end) is counted, not held against the daemon.
 *
 * The client hands each seq over once, so a seq sent twice on the wire would not show here; the normal
 * `*` subscribers count those live. A tick stored twice under two seqs does show: its id is seen twice.
 */
import { TickringClient } from "../../src/client/index.js";
import { Body, Trade } from "../../src/frame/codec.js";

export interface HistoryCheck {
  ackedMessages: number;
  ackedTicks: number;
  /** The replay ran from seq 1 to this seq (the highest acked). */
  toSeq: number;
  framesReplayed: number;
  /** Acked ticks not found anywhere in history. */
  lost: number;
  /** Acked ticks past where the replay stopped (0 when it was done). */
  unchecked: number;
  /** Normal ticks found at more than one seq. */
  duplicated: number;
  /** Acked seqs holding something other than the tick the ack implied. */
  misplaced: number;
  /** Normal ticks in history whose message was never acked (sent, but in flight at the end). */
  presentUnacked: number;
  /** Seqs the replay skipped over (holes in history), and retired ranges it was told of. */
  holes: number;
  retired: number;
  replayMs: number;
  /** How the replay ended: "done", or why it did not. */
  ended: string;
  /** The first few problems, in words. */
  examples: string[];
}

const EXAMPLES = 10;

/**
 * Replays seqs 1 … the highest acked from the daemon on `port` and checks them against `acked` (triples:
 * last seq, tick count, first tick id, as normal-publisher.worker.ts records them).
 */
export async function checkHistory(
  port: number,
  acked: number[],
  ticksSent: number,
  symbols: string[],
  timeoutMs: number,
): Promise<HistoryCheck> {
  let toSeq = 0;
  for (let i = 0; i < acked.length; i += 3) toSeq = Math.max(toSeq, acked[i]);
  const expectedAt = new Float64Array(toSeq + 1);
  const wasAcked = new Uint8Array(ticksSent + 1);
  let ackedTicks = 0;
  for (let i = 0; i < acked.length; i += 3) {
    const [last, count, first] = [acked[i], acked[i + 1], acked[i + 2]];
    for (let j = 0; j < count; j++) {
      expectedAt[last - count + 1 + j] = first + j;
      wasAcked[first + j] = 1;
    }
    ackedTicks += count;
  }
  const seen = new Uint8Array(ticksSent + 1);
  const ours = new Set(symbols);
  const trade = new Trade();
  const examples: string[] = [];
  const note = (text: string) => {
    if (examples.length < EXAMPLES) examples.push(text);
  };
  let frames = 0;
  let misplaced = 0;
  let holes = 0;
  let retired = 0;
  let lastSeq = 0;
  const started = performance.now();
  const client = new TickringClient({ url: `ws://127.0.0.1:${port}`, reconnect: { maxAttempts: 5 } });

  const ended = await new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve(`timeout after ${timeoutMs} ms at seq ${lastSeq}`), timeoutMs);
    const settle = (how: string) => {
      clearTimeout(timer);
      resolve(how);
    };
    if (toSeq === 0) {
      settle("done");
      return;
    }
    client
      .subscribe(
        { symbols: "*", feed: "historical", from: { seq: 1 }, to: { seq: toSeq }, speed: "max" },
        {
          frame: (f, seq) => {
            frames++;
            if (seq !== lastSeq + 1) {
              holes += seq - lastSeq - 1;
              note(`seqs ${lastSeq + 1}…${seq - 1} missing from history`);
            }
            lastSeq = seq;
            const id =
              f.bodyType() === Body.Trade && ours.has(f.symbol()!) ? Number(f.body(trade).tradeId()) : 0;
            if (id > 0 && id <= ticksSent) seen[id] = Math.min(255, seen[id] + 1);
            const expected = seq <= toSeq ? expectedAt[seq] : 0;
            if (expected !== 0 && id !== expected) {
              misplaced++;
              note(
                `seq ${seq} was acked for tick ${expected} but holds ${id === 0 ? "another publisher's tick" : `tick ${id}`}`,
              );
            }
          },
          done: () => settle("done"),
          retired: (from, to) => {
            retired += to - from + 1;
            note(`seqs ${from}…${to} retired`);
          },
          error: (err) => settle(`error ${err.code}: ${err.message}`),
        },
      )
      .catch((err: Error) => settle(`refused: ${err.message}`));
  });
  client.close();

  let lost = 0;
  let unchecked = 0;
  for (let seq = 1; seq <= toSeq; seq++) {
    const id = expectedAt[seq];
    if (id === 0) continue;
    if (seq > lastSeq) unchecked++;
    else if (seen[id] === 0) {
      lost++;
      note(`acked tick ${id} (seq ${seq}) is not in history`);
    }
  }
  let duplicated = 0;
  let presentUnacked = 0;
  for (let id = 1; id <= ticksSent; id++) {
    if (seen[id] > 1) {
      duplicated++;
      note(`tick ${id} is in history ${seen[id]} times`);
    }
    if (wasAcked[id] === 0 && seen[id] > 0) presentUnacked++;
  }
  return {
    ackedMessages: acked.length / 3,
    ackedTicks,
    toSeq,
    framesReplayed: frames,
    lost,
    unchecked,
    duplicated,
    misplaced,
    presentUnacked,
    holes,
    retired,
    replayMs: Math.round(performance.now() - started),
    ended,
    examples,
  };
}
