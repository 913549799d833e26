/**
 * A consumer of the ring benchmark: a worker thread that receives frames either from the ring (the way a
 * subscriber worker does: drain runs, spin briefly, then sleep in `awaitData` on its event loop) or as
 * `postMessage` copies (the baseline), and records each frame's one-way latency from its ts_recv stamp.
 */
import { parentPort, workerData } from "node:worker_threads";
import { frameLength, frameTsRecvApprox } from "../../src/frame/codec.js";
import { POLL_LAPPED, POLL_RUN, RingReader } from "../../src/ring/reader.js";
import {
  CONTROL_PROGRESS,
  CONTROL_READY,
  type ConsumerData,
  type ConsumerResult,
  clockNs,
  LatencyRecorder,
} from "./support.js";

const data = workerData as ConsumerData;
const port = parentPort!;
const control = new Int32Array(data.control);
const latency = new LatencyRecorder();
const epochMs = data.epochMs;
let received = 0;
let laps = 0;
let tornRuns = 0;
let runs = 0;

function report(): void {
  const result: ConsumerResult = {
    received,
    laps,
    tornRuns,
    runs,
    latencyCounts: latency.counts,
  };
  port.postMessage(result);
}

function ready(): void {
  Atomics.add(control, CONTROL_READY, 1);
}

function runRing(ring: SharedArrayBuffer): void {
  const reader = new RingReader(ring);
  const bytes = reader.bytes;
  const spinMs = data.spinMicros / 1000;
  const progressSlot = CONTROL_PROGRESS + data.index;

  /** Handles everything published so far; returns when the ring is empty. */
  const drain = (): void => {
    for (;;) {
      const result = reader.poll();
      if (result === POLL_RUN) {
        // One clock read per run: the run became visible to this thread at once.
        const now = clockNs(epochMs);
        let at = reader.runStart;
        for (let i = 0; i < reader.runCount; i++) {
          latency.record(now - frameTsRecvApprox(bytes, at));
          at += frameLength(bytes, at);
        }
        if (!reader.runIntact()) tornRuns++;
        received += reader.runCount;
        runs++;
        Atomics.store(control, progressSlot, reader.position() | 0);
      } else if (result === POLL_LAPPED) {
        laps++;
      } else {
        return;
      }
    }
  };

  const loop = async (): Promise<void> => {
    for (;;) {
      drain();
      const until = performance.now() + spinMs;
      while (reader.lag() === 0 && performance.now() < until);
      if (reader.lag() === 0) await reader.awaitData();
    }
  };

  // The producer's "stop" follows its last publish: drain what is left and report. The loop may be parked
  // in awaitData; a pending waitAsync does not keep the thread alive, and the producer terminates it.
  port.on("message", () => {
    drain();
    report();
  });
  ready();
  void loop();
}

function runPostMessage(): void {
  const slot = CONTROL_PROGRESS + data.index;
  port.on("message", (message: Uint8Array | "stop") => {
    if (message === "stop") {
      report();
      return;
    }
    latency.record(clockNs(epochMs) - frameTsRecvApprox(message, 0));
    received++;
    Atomics.store(control, slot, received);
  });
  ready();
}

if (data.transport === "ring") runRing(data.ring!);
else runPostMessage();
