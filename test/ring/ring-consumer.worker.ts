/**
 * A ring consumer in a real worker thread, driven by the ring tests through `workerData` and a small
 * control SharedArrayBuffer. It copies every run it is given (after the seqlock re-check) and reports what
 * it saw; the main thread compares that with what the writer wrote.
 *
 * `node --test` also loads this file as a test in the main thread: there it does nothing.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { POLL_EMPTY, POLL_LAPPED, POLL_RUN, RingReader } from "../../src/ring/reader.js";

/** Control words (Int32) shared between the test and its consumers. */
export const CONTROL_READY = 0; // consumers that finished constructing their reader
export const CONTROL_DONE = 1; // 1 once the writer wrote everything; CONTROL_FINAL then holds its position
export const CONTROL_FINAL = 2;
export const CONTROL_PAUSED = 3; // a pausing consumer sets it when it sleeps
export const CONTROL_GO = 4; // the test sets it to wake a paused consumer
export const CONTROL_PROGRESS = 8; // + consumer index: the consumer's position after each run it used
export const CONTROL_WORDS = 16;

/** What the test hands each consumer. */
export interface ConsumerData {
  ring: SharedArrayBuffer;
  control: SharedArrayBuffer;
  index: number;
  start: "tail" | "oldest";
  /** Poll at most this many bytes per run. */
  maxBytes: number;
  /** "poll" spins on poll/waitData; "await" sleeps in awaitData and keeps its event loop. */
  wait: "wait" | "await";
  /** Sleep until CONTROL_GO once lastSeq reaches this (0: never). */
  pauseAfterSeq: number;
  /** Busy time after each run, to make a consumer slow enough to be lapped. */
  spinMicros: number;
  /** waitData timeout when the ring is empty. */
  waitTimeoutMs: number;
}

/** A lap the consumer reported, and how many records it had delivered before it. */
export interface LapEvent {
  lostFromSeq: number;
  after: number;
}

/** What a consumer posts back when done. */
export interface ConsumerReport {
  /** Every delivered record, back to back, exactly as read from the ring. */
  records: Uint8Array;
  laps: LapEvent[];
  /** Runs whose record boundaries did not add up to runEnd, or that spanned the data region end. */
  badRuns: number;
  /** lastSeq right after construction. */
  initialLastSeq: number;
}

function consume(data: ConsumerData): ConsumerReport {
  const control = new Int32Array(data.control);
  const reader = new RingReader(data.ring, { start: data.start });
  const initialLastSeq = reader.lastSeq;
  const chunks: Uint8Array[] = [];
  const laps: LapEvent[] = [];
  let delivered = 0;
  let badRuns = 0;
  let paused = false;
  reportProgress(control, data.index, reader);
  Atomics.add(control, CONTROL_READY, 1);
  Atomics.notify(control, CONTROL_READY);
  for (;;) {
    const result = reader.poll(data.maxBytes);
    if (result === POLL_RUN) {
      const copy = reader.bytes.slice(reader.runStart, reader.runEnd);
      if (!reader.runIntact()) continue; // the next poll reports the lap
      if (!wholeRecords(copy, reader.runCount) || reader.runEnd > reader.bytes.length) badRuns++;
      chunks.push(copy);
      delivered += reader.runCount;
      reportProgress(control, data.index, reader);
      spin(data.spinMicros);
      if (!paused && data.pauseAfterSeq > 0 && reader.lastSeq >= data.pauseAfterSeq) {
        paused = true;
        Atomics.store(control, CONTROL_PAUSED, 1);
        Atomics.notify(control, CONTROL_PAUSED);
        while (Atomics.load(control, CONTROL_GO) === 0) Atomics.wait(control, CONTROL_GO, 0, 1000);
      }
    } else if (result === POLL_LAPPED) {
      laps.push({ lostFromSeq: reader.lostFromSeq, after: delivered });
      reportProgress(control, data.index, reader);
    } else if (result === POLL_EMPTY) {
      if (Atomics.load(control, CONTROL_DONE) === 1 && reader.position() === control[CONTROL_FINAL] >>> 0)
        break;
      reader.waitData(data.waitTimeoutMs);
    }
  }
  return { records: concat(chunks), laps, badRuns, initialLastSeq };
}

/** The "await" flavour: one frame per message back, so the test can see each wake-up. */
function consumeAsync(data: ConsumerData): void {
  const reader = new RingReader(data.ring, { start: data.start });
  const control = new Int32Array(data.control);
  let stopped = false;
  // A pending waitAsync does not keep a worker alive (nodejs/node#44729); this listener does.
  parentPort!.on("message", () => {
    stopped = true;
    parentPort!.close();
  });
  const loop = async (): Promise<void> => {
    while (!stopped) {
      while (reader.poll() === POLL_RUN) {
        parentPort!.postMessage({ lastSeq: reader.lastSeq, runCount: reader.runCount });
      }
      await reader.awaitData();
    }
  };
  Atomics.add(control, CONTROL_READY, 1);
  void loop();
}

function spin(micros: number): void {
  const until = performance.now() + micros / 1000;
  while (performance.now() < until);
}

function reportProgress(control: Int32Array, index: number, reader: RingReader): void {
  Atomics.store(control, CONTROL_PROGRESS + index, reader.position() | 0);
  Atomics.notify(control, CONTROL_PROGRESS + index);
}

function wholeRecords(run: Uint8Array, count: number): boolean {
  const view = new DataView(run.buffer, run.byteOffset, run.byteLength);
  let at = 0;
  let n = 0;
  while (at < run.length) {
    at += view.getUint32(at, true) + 4;
    n++;
  }
  return at === run.length && n === count;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

if (!isMainThread && parentPort !== null) {
  const data = workerData as ConsumerData;
  if (data.wait === "await") consumeAsync(data);
  else parentPort.postMessage(consume(data));
}
