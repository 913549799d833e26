/**
 * Ingest-edge benchmark: how fast a worker turns publisher messages into frames for the sequencer.
 * Binary messages of frames from our encoder (verified, then passed through) against the baseline of the
 * same ticks sent as a JSON array (parsed, validated, encoded), in the same run.
 *
 *   node dist/bench/publisher/publisher.bench.js [flags]   (flags: bench/catalog.ts, or --help)
 */
import { cpus } from "node:os";
import { FrameEncoder, type Tick } from "../../src/frame/codec.js";
import { IngestDecoder } from "../../src/publisher/ingest/decoder.js";
import { PUBLISHER } from "../catalog.js";
import { benchFlags } from "../flags.js";

const values = benchFlags(PUBLISHER);
const PER_MESSAGE = 200;
const MESSAGES = values.smoke ? 500 : 10_000;

const ticks: Tick[] = Array.from({ length: PER_MESSAGE }, (_, i) => ({
  type: "quote",
  symbol: `SYM${i % 64}`,
  bidPrice: 100 + i / 100,
  bidSize: 100,
  askPrice: 100.02 + i / 100,
  askSize: 200,
}));
const enc = new FrameEncoder();
const binary = Buffer.concat(ticks.map((t) => Buffer.from(enc.encode(t, 0n, 0n))));
const json = Buffer.from(
  JSON.stringify(
    ticks.map((t) => {
      const q = t as Tick & { type: "quote" };
      return {
        type: "quote",
        symbol: q.symbol,
        bid_price: q.bidPrice,
        bid_size: q.bidSize,
        ask_price: q.askPrice,
        ask_size: q.askSize,
      };
    }),
  ),
);

/** Frames per second over the best of 3 rounds (after a warm-up round). */
function measure(message: Buffer, isBinary: boolean): number {
  const dec = new IngestDecoder();
  let best = 0;
  for (let round = 0; round < 4; round++) {
    const start = performance.now();
    for (let m = 0; m < MESSAGES; m++) dec.decode(message, isBinary);
    const rate = (MESSAGES * PER_MESSAGE) / ((performance.now() - start) / 1000);
    if (round > 0) best = Math.max(best, rate);
  }
  return Math.round(best);
}

process.stderr.write("publisher: binary frames …");
const binaryRate = measure(binary, true);
process.stderr.write(" JSON ticks …");
const jsonRate = measure(json, false);
process.stderr.write(" done\n");
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version };
const result = {
  bench: "publisher",
  machine,
  ticksPerMessage: PER_MESSAGE,
  binaryFramesPerSecond: binaryRate,
  jsonTicksPerSecond: jsonRate,
  ratio: Math.round((binaryRate / jsonRate) * 100) / 100,
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(
    `ingest edge — ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, ${PER_MESSAGE} ticks per message`,
  );
  console.log(`binary frames (verify + pass through): ${binaryRate} frames/s`);
  console.log(`baseline, JSON ticks (parse + validate + encode): ${jsonRate} ticks/s`);
  console.log(`ratio binary / JSON: ${result.ratio}`);
}
