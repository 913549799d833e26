/**
 * window-publisher.ts on a thread of its own, for a load process whose main thread runs subscribers:
 * `workerData` is a {@link WindowedPublish}; the {@link WindowedRun} is posted back when done.
 */
import { parentPort, workerData } from "node:worker_threads";
import { publishWindowed, type WindowedPublish } from "./window-publisher.js";

parentPort!.postMessage(await publishWindowed(workerData as WindowedPublish));
