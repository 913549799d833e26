/**
 * The replicator thread's entry: the leader's {@link Replicator} on a thread of its own with its own NATS
 * connection, so the single writer's thread spends nothing on replication but one message per turn of
 * this thread's loop (the replicated seq, coalesced). It sleeps on the broadcast ring — the writer
 * publishes the ring right after each WAL group — and reads the frames from the WAL files. The replicated
 * seq and the age of the oldest frame in flight go straight into the shared state.
 */
import { setImmediate } from "node:timers";
import { parentPort, workerData } from "node:worker_threads";
import { createLogger } from "../logger.js";
import { POLL_EMPTY, POLL_RUN, RingReader } from "../ring/reader.js";
import {
  STATUS_REPLICATED_SEQ,
  STATUS_REPLICATION_PENDING_NS,
  STATUS_WRITTEN_SEQ,
} from "../threads/shared-state.js";
import { NatsLink } from "./nats-link.js";
import { Replicator } from "./replicator.js";
import type { FromReplicator, ReplicatorInit, ToReplicator } from "./thread-messages.js";

const init = workerData as ReplicatorInit;
const port = parentPort!;
const post = (msg: FromReplicator) => port.postMessage(msg);
const log = createLogger(init.logLevel).child({ thread: "replicator" });
const shared = init.shared;

/** Wakes on the ring; `seen` is the last seq the ring showed (the written seq slot may lag it by a moment). */
const ring = new RingReader(init.ring, { start: "tail" });
let seen = 0;
let waiting: Promise<void> | undefined;
let interrupt: () => void = () => {};
const stopped = new Promise<void>((resolve) => (interrupt = resolve));

/** Moves the ring cursor to the writer's tail; true when it had moved on. */
function drainRing(): boolean {
  let moved = false;
  for (let r = ring.poll(1 << 30); r !== POLL_EMPTY; r = ring.poll(1 << 30)) {
    moved = true;
    if (r === POLL_RUN && ring.lastSeq > seen) seen = ring.lastSeq;
  }
  return moved;
}

function wake(): Promise<void> {
  if (drainRing()) return Promise.resolve();
  // One wait at a time: the loop races it against acknowledgements, and must not pile up waiters.
  waiting ??= ring.awaitData().then(() => {
    waiting = undefined;
  });
  return Promise.race([waiting, stopped]);
}

let progressPosted = false;

let link: NatsLink;
try {
  link = await NatsLink.connect(init.servers, init.stream, `tickring replicator ${init.leader}`);
} catch (err) {
  post({ t: "failed", message: (err as Error).message });
  process.exit(0);
}
const replicator = new Replicator({
  link,
  walDir: init.walDir,
  leader: init.leader,
  fromSeq: init.fromSeq,
  afterStreamSeq: init.afterStreamSeq,
  writtenSeq: () => Math.max(shared[STATUS_WRITTEN_SEQ], seen),
  wake,
  progress: (seq, pendingSinceNs) => {
    shared[STATUS_REPLICATED_SEQ] = seq;
    shared[STATUS_REPLICATION_PENDING_NS] = pendingSinceNs;
    if (!init.announce || progressPosted) return;
    progressPosted = true;
    setImmediate(() => {
      progressPosted = false;
      post({ t: "progress", seq: shared[STATUS_REPLICATED_SEQ] });
    });
  },
  fenced: (by) => post({ t: "fenced", by }),
  retrying: (seq, err) =>
    log.warn(
      { err: { message: (err as Error)?.message }, seq },
      "replication retrying after a failed publish",
    ),
});
shared[STATUS_REPLICATED_SEQ] = replicator.replicatedSeq;
const running = replicator.run().catch((err: unknown) => {
  post({ t: "failed", message: String((err as Error)?.message ?? err) });
});
post({ t: "started" });

port.on("message", (msg: ToReplicator) => {
  if (msg.t !== "stop") return;
  const deadline = performance.now() + msg.drainMs;
  const poll = setInterval(() => {
    if (!replicator.caughtUp && performance.now() < deadline) return;
    clearInterval(poll);
    replicator.stop();
    interrupt();
    void running
      .then(() => link.close())
      .finally(() => {
        replicator.close();
        shared[STATUS_REPLICATION_PENDING_NS] = 0;
        post({ t: "stopped", seq: replicator.replicatedSeq });
        port.close();
      });
  }, 5);
});
