import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { frameLength, frameSeq } from "../../src/frame/codec.js";
import { Sequencer } from "../../src/publisher/sequencer.js";
import { RingReader } from "../../src/ring/reader.js";
import { RingWriter } from "../../src/ring/writer.js";
import { Wal } from "../../src/storage/index.js";
import { type FanOut, RingPump } from "../../src/subscriber/ring-pump.js";
import { tempDir, tickFor } from "../storage/helpers.js";

/** A fan-out that records the seq of every frame it is given, and the gaps it is told of. */
class SeqRecorder implements FanOut {
  readonly seqs: number[] = [];
  readonly gaps: [number, number][] = [];
  dispatch(bytes: Uint8Array, start: number, end: number): void {
    for (let off = start; off < end; off += frameLength(bytes, off)) this.seqs.push(frameSeq(bytes, off));
  }
  reportGap(from: number, to: number): void {
    this.gaps.push([from, to]);
  }
}

/** A real WAL, a real 64 KiB ring and the sequencer that writes both, in a temp dir. */
async function writerSetup() {
  const tmp = tempDir("tickring-pump-");
  const walDir = join(tmp.dir, "wal");
  const { wal } = await Wal.open({ dir: walDir, fsync: "os" });
  const ring = RingWriter.allocate(64 * 1024);
  const sequencer = new Sequencer(wal, ring, 0);
  const reader = new RingReader(ring.buffer, { start: "tail" });
  const write = (from: number, n: number, levels = 0) => {
    sequencer.appendTicks(Array.from({ length: n }, (_, i) => tickFor(from + i, levels)));
    sequencer.commit();
  };
  return { tmp, walDir, wal, reader, write, sequencer };
}

/** Turns the pump until it has dispatched `seq`. */
function pumpTo(pump: RingPump, seq: number): void {
  for (let guard = 0; pump.dispatchedSeq < seq; guard++) {
    assert.ok(guard < 10_000, `pump stuck at ${pump.dispatchedSeq}, wanted ${seq}`);
    pump.turn();
  }
}

test("the pump fans out every seq once, in order, straight from the ring", async () => {
  const w = await writerSetup();
  const out = new SeqRecorder();
  const pump = new RingPump({
    reader: w.reader,
    walDir: w.walDir,
    writtenSeq: () => w.wal.writtenSeq,
    fanOut: out,
    startSeq: 0,
    onTorn: () => {},
  });
  for (let m = 0; m < 20; m++) {
    w.write(m * 10 + 1, 10);
    pump.turn();
  }
  pumpTo(pump, 200);
  assert.deepEqual(
    out.seqs,
    Array.from({ length: 200 }, (_, i) => i + 1),
  );
  assert.equal(pump.counters.laps, 0);
  await w.wal.close();
  w.tmp.cleanup();
});

test("a pump lapped by the ring catches up from the WAL: every seq once, no gap", async () => {
  const w = await writerSetup();
  const out = new SeqRecorder();
  const pump = new RingPump({
    reader: w.reader,
    walDir: w.walDir,
    writtenSeq: () => w.wal.writtenSeq,
    fanOut: out,
    startSeq: 0,
    onTorn: () => {},
  });
  // ≈ 2.5 KB book frames: 400 of them are ≈ 1 MB, sixteen laps of the 64 KiB ring before the pump runs.
  w.write(1, 400, 50);
  pumpTo(pump, 400);
  w.write(401, 10);
  pumpTo(pump, 410);
  assert.deepEqual(
    out.seqs,
    Array.from({ length: 410 }, (_, i) => i + 1),
  );
  assert.deepEqual(out.gaps, []);
  assert.ok(pump.counters.laps > 0, "the pump was lapped");
  assert.ok(pump.counters.caughtUp >= 300, `caught up ${pump.counters.caughtUp} frames from the WAL`);
  await w.wal.close();
  w.tmp.cleanup();
});

test("frames the WAL already gave are not sent again when the ring shows them", async () => {
  const w = await writerSetup();
  const out = new SeqRecorder();
  // The worker starts after seq 5 was written: the ring still has 1–5, the pump must start at 6.
  w.write(1, 5);
  const pump = new RingPump({
    reader: new RingReader(w.reader.bytes.buffer as SharedArrayBuffer, { start: "oldest" }),
    walDir: w.walDir,
    writtenSeq: () => w.wal.writtenSeq,
    fanOut: out,
    startSeq: 5,
    onTorn: () => {},
  });
  w.write(6, 5);
  pumpTo(pump, 10);
  assert.deepEqual(out.seqs, [6, 7, 8, 9, 10]);
  await w.wal.close();
  w.tmp.cleanup();
});
