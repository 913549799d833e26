/** What the main thread and the bars thread (src/edge/bar-thread.ts) tell each other. */
import type { BarTick } from "../../frame/codec.js";
import type { BarOptions } from "./bar-emitter.js";

/** The bars thread's `workerData`. */
export interface BarThreadInit extends BarOptions {
  /** The broadcast ring's buffer: the thread reads every sequenced frame from it. */
  ring: SharedArrayBuffer;
  /** The data directory's WAL and store, to read history back at start and after a lap. */
  walDir: string;
  storeDir: string;
  /** The main thread's clock offset, so that bars are due by the writer's clock. */
  clockOffsetNs: bigint;
  /** The shared state (src/threads/shared-state.ts): the thread reads the WAL's written seq from it. */
  shared: Float64Array;
}

/** From the bars thread: bars to sequence, or a failure (the thread then ends). */
export type FromBarThread = { t: "bars"; ticks: BarTick[] } | { t: "failed"; message: string };

/** To the bars thread: stop, or hold the bars (while the writer refuses ingest) and hand them out again. */
export type ToBarThread = { t: "stop" } | { t: "hold"; on: boolean };
