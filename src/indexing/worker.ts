/**
 * The indexer thread's entry: the WAL → store indexing loop ({@link Indexer}) on a thread of its own, so the
 * single writer's thread does nothing but sequence. Profiled in the daemon under JSON ingest, indexing on
 * the main thread (LevelDB batch marshalling, WAL reads and CRCs, block building) took about a third of
 * that thread's busy time.
 *
 * It indexes only durable seqs (the main thread's `durable seq` slot), publishes its checkpoint in the
 * `indexed seq` slot, and stops (closing its handle of the store) when told to.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Indexer, Store } from "../storage/index.js";
import { STATUS_DURABLE_SEQ, STATUS_INDEXED_SEQ } from "../threads/shared-state.js";
import type { FromIndexer, IndexerInit } from "./messages.js";

const init = workerData as IndexerInit;
const port = parentPort!;
const post = (msg: FromIndexer) => port.postMessage(msg);
const shared = init.shared;

const store = await Store.open({ dir: init.storeDir });
shared[STATUS_INDEXED_SEQ] = store.checkpoint;
const indexer = new Indexer(store, {
  walDir: init.walDir,
  limitSeq: () => shared[STATUS_DURABLE_SEQ],
  onBatch: (checkpoint) => {
    shared[STATUS_INDEXED_SEQ] = checkpoint;
  },
  onError: (err) => post({ t: "failed", message: String((err as Error)?.message ?? err), code: codeOf(err) }),
  onRetry: (err, delayMs) =>
    post({ t: "retrying", message: String((err as Error)?.message ?? err), delayMs }),
});
indexer.start();
post({ t: "started" });

port.on("message", (msg: { t: "stop" }) => {
  if (msg.t !== "stop") return;
  indexer
    .stop()
    .then(() => store.close())
    .then(
      () => {
        shared[STATUS_INDEXED_SEQ] = store.checkpoint;
        post({ t: "stopped" });
        port.unref();
      },
      (err) => post({ t: "failed", message: String((err as Error)?.message ?? err), code: codeOf(err) }),
    );
});

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" ? code : undefined;
}
