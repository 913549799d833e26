/** The ring across real worker threads: broadcast, laps under a slow consumer, and wake-ups. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import fc from "fast-check";
import { FrameEncoder, frameSeq, type Tick } from "../../src/frame/codec.js";
import { HEADER_LENGTH, WAITERS_INDEX } from "../../src/ring/layout.js";
import { RingWriter } from "../../src/ring/writer.js";
import { tickArb } from "../support/ticks.js";
import {
  CONTROL_DONE,
  CONTROL_FINAL,
  CONTROL_GO,
  CONTROL_PAUSED,
  CONTROL_PROGRESS,
  CONTROL_READY,
  CONTROL_WORDS,
  type ConsumerData,
  type ConsumerReport,
} from "./ring-consumer.worker.js";

const WORKER_URL = new URL("./ring-consumer.worker.js", import.meta.url);

function encodeAll(ticks: Tick[], firstSeq = 1): Uint8Array[] {
  const enc = new FrameEncoder();
  return ticks.map((t, i) => enc.encode(t, BigInt(firstSeq + i), BigInt(firstSeq + i)).slice());
}

function newControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
}

function consumerData(writer: RingWriter, control: Int32Array, index: number, more: Partial<ConsumerData>) {
  const data: ConsumerData = {
    ring: writer.buffer,
    control: control.buffer as SharedArrayBuffer,
    index,
    start: "tail",
    maxBytes: 64 * 1024,
    wait: "wait",
    pauseAfterSeq: 0,
    waitTimeoutMs: 1000,
    spinMicros: 0,
    ...more,
  };
  return data;
}

/** Starts a consumer and resolves with its report (its first message). */
function startConsumer(data: ConsumerData): { worker: Worker; report: Promise<ConsumerReport> } {
  const worker = new Worker(WORKER_URL, { workerData: data });
  const report = new Promise<ConsumerReport>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) =>
      reject(new Error(`consumer ${data.index} exited with ${code} before reporting`)),
    );
  });
  return { worker, report };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i > 10_000) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/** Tells consumers the last position, then publishes it, so one that wakes on the publish sees both. */
function finish(writer: RingWriter, control: Int32Array): void {
  Atomics.store(control, CONTROL_FINAL, writer.position() | 0);
  Atomics.store(control, CONTROL_DONE, 1);
  writer.publish();
}

/** Splits a report's records back into frames. */
function framesOf(records: Uint8Array): Uint8Array[] {
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const out: Uint8Array[] = [];
  for (let at = 0; at < records.length;) {
    const len = view.getUint32(at, true) + 4;
    out.push(records.subarray(at, at + len));
    at += len;
  }
  return out;
}

/**
 * Checks that a consumer got the written frames in order with identical bytes, except for gaps that each
 * start exactly where a lap report said.
 */
function checkReport(report: ConsumerReport, frames: Uint8Array[], firstSeq: number): number {
  assert.equal(report.badRuns, 0, "every run held whole records and ended before the region end");
  const got = framesOf(report.records);
  let expected = firstSeq;
  let lapIndex = 0;
  let lastSeq = report.initialLastSeq;
  for (let i = 0; i < got.length; i++) {
    const seq = frameSeq(got[i], 0);
    while (lapIndex < report.laps.length && report.laps[lapIndex].after === i) {
      const lap = report.laps[lapIndex++];
      assert.equal(lap.lostFromSeq, lastSeq + 1, "a lap reports the first undelivered seq");
      expected = seq;
      assert.ok(seq > lap.lostFromSeq, "delivery resumes past the lost frames");
    }
    assert.equal(seq, expected, "frames arrive in seq order with no silent gap");
    assert.deepEqual(got[i], frames[seq - 1], `frame ${seq} bytes are identical`);
    lastSeq = seq;
    expected++;
  }
  for (const lap of report.laps.slice(lapIndex)) assert.equal(lap.lostFromSeq, lastSeq + 1);
  return got.length;
}

test("every consumer thread sees every frame in order, or reports the lap", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(tickArb, { minLength: 50, maxLength: 400 }),
      fc.integer({ min: 1, max: 4 }),
      fc.constantFrom(8192, 16384),
      fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 0, max: 10 }),
      fc.constantFrom<"tail" | "oldest">("tail", "oldest"),
      fc.integer({ min: 8, max: 16384 }),
      fc.constantFrom(0, 0, 20, 200),
      async (ticks, consumers, capacity, throttled, batches, prefill, start, maxBytes, spinMicros) => {
        const frames = encodeAll(ticks);
        const writer = RingWriter.allocate(capacity);
        const control = newControl();
        // A prefill within half the ring never wraps, so "oldest" starts at seq 1.
        let before = 0;
        while (before < prefill && writer.position() + frames[before].length <= capacity / 2) {
          writer.append(frames[before++]);
        }
        writer.publish();
        const running = Array.from({ length: consumers }, (_, i) =>
          startConsumer(consumerData(writer, control, i, { start, maxBytes, spinMicros })),
        );
        await until(() => Atomics.load(control, CONTROL_READY) === consumers, "consumers to start");

        const slowest = (): number => {
          let min = writer.position() | 0;
          for (let i = 0; i < consumers; i++) {
            const p = Atomics.load(control, CONTROL_PROGRESS + i);
            if (((min - p) | 0) > 0) min = p;
          }
          return min;
        };
        let b = 0;
        for (let i = before; i < frames.length;) {
          for (let n = batches[b++ % batches.length]; n > 0 && i < frames.length; n--, i++) {
            // Throttled runs keep every consumer within a lap (a test-only gate: the ring itself never
            // waits), so they must deliver everything; free runs may lap the consumers.
            while (throttled && ((writer.position() + 2 * frames[i].length - slowest()) | 0) > capacity) {
              writer.publish();
              await sleep(0);
            }
            writer.append(frames[i]);
          }
          writer.publish();
          if (b % 4 === 0) await sleep(0);
        }
        finish(writer, control);

        const reports = await Promise.all(running.map((r) => r.report));
        for (const report of reports) {
          const firstSeq = start === "oldest" ? 1 : before + 1;
          assert.equal(report.initialLastSeq, firstSeq - 1);
          const delivered = checkReport(report, frames, firstSeq);
          if (throttled) {
            assert.equal(report.laps.length, 0);
            assert.equal(delivered, frames.length - firstSeq + 1);
          }
        }
      },
    ),
    { numRuns: 16 },
  );
});

test("a sleeping consumer is lapped: it reports the right lostFromSeq, then reads intact frames", async () => {
  const capacity = 8192;
  const frames = encodeAll(
    Array.from({ length: 400 }, (_, i) => ({ type: "trade", symbol: `S${i}`, price: i, size: 1 })),
  );
  const writer = RingWriter.allocate(capacity);
  const control = newControl();
  const { report } = startConsumer(consumerData(writer, control, 0, { pauseAfterSeq: 10 }));
  await until(() => Atomics.load(control, CONTROL_READY) === 1, "the consumer to start");

  for (const f of frames.slice(0, 10)) writer.append(f);
  writer.publish();
  await until(() => Atomics.load(control, CONTROL_PAUSED) === 1, "the consumer to fall asleep after seq 10");
  // Three laps' worth while it sleeps.
  let i = 10;
  const asleepAt = writer.position();
  while (writer.position() - asleepAt < 3 * capacity) writer.append(frames[i++]);
  writer.publish();
  const resumeSeq = i + 1;
  Atomics.store(control, CONTROL_GO, 1);
  Atomics.notify(control, CONTROL_GO);
  await until(() => Atomics.load(control, CONTROL_PROGRESS) === (writer.position() | 0), "the lap report");
  for (const f of frames.slice(i, i + 30)) writer.append(f);
  finish(writer, control);

  const r = await report;
  assert.deepEqual(r.laps, [{ lostFromSeq: 11, after: 10 }]);
  const got = framesOf(r.records).map((f) => frameSeq(f, 0));
  assert.deepEqual(got, [
    ...Array.from({ length: 10 }, (_, k) => k + 1),
    ...Array.from({ length: 30 }, (_, k) => resumeSeq + k),
  ]);
  checkReport(r, frames, 1);
});

test("publish wakes a consumer blocked in waitData, and notifies only while someone sleeps", async () => {
  const writer = RingWriter.allocate(4096);
  const header = new Int32Array(writer.buffer, 0, HEADER_LENGTH / 4);
  const frames = encodeAll([{ type: "trade", symbol: "A", price: 1, size: 1 }]);
  const control = newControl();
  // An hour-long timeout: only a notify can wake it within the test's time.
  const { report } = startConsumer(consumerData(writer, control, 0, { waitTimeoutMs: 3_600_000 }));
  await until(() => Atomics.load(header, WAITERS_INDEX) === 1, "the consumer to sleep");
  assert.equal(writer.notifyCalls, 0);
  writer.append(frames[0]);
  finish(writer, control);
  assert.equal(writer.notifyCalls, 1);
  const r = await report;
  assert.deepEqual(framesOf(r.records), frames);
  assert.equal(Atomics.load(header, WAITERS_INDEX), 0);
});

test("publish wakes a consumer awaiting awaitData in its event loop; no notify without sleepers", async () => {
  const writer = RingWriter.allocate(4096);
  const header = new Int32Array(writer.buffer, 0, HEADER_LENGTH / 4);
  const frames = encodeAll(
    Array.from({ length: 3 }, () => ({ type: "trade", symbol: "A", price: 1, size: 1 })),
  );
  const control = newControl();
  const worker = new Worker(WORKER_URL, { workerData: consumerData(writer, control, 0, { wait: "await" }) });
  const seen: number[] = [];
  worker.on("message", (m: { lastSeq: number }) => seen.push(m.lastSeq));
  try {
    for (let k = 0; k < frames.length; k++) {
      await until(() => Atomics.load(header, WAITERS_INDEX) === 1, `the consumer to sleep (${k})`);
      writer.append(frames[k]);
      writer.publish();
      assert.equal(writer.notifyCalls, k + 1);
      await until(() => seen.length === k + 1, `frame ${k + 1} to arrive`);
    }
    assert.deepEqual(seen, [1, 2, 3]);
  } finally {
    worker.postMessage("stop");
    await worker.terminate();
  }

  // Nobody asleep: publishing costs no notify.
  const quiet = RingWriter.allocate(4096);
  for (const f of frames) {
    quiet.append(f);
    quiet.publish();
  }
  assert.equal(quiet.notifyCalls, 0);
});
