/**
 * The daemon's side of replication (src/replication): what a node of a replication group uses of the
 * daemon — the single writer, the WAL, the ring, the shared state. Its changes of role reach the writer as
 * the role's reason to refuse ingest (a follower's READ_ONLY names its leader), which is the writer's one
 * refusal state (see writer.ts); the writer's storage failures reach the node from the same state.
 */
import { TickringError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Sequencer } from "../publisher/sequencer.js";
import type { ReplicationHost } from "../replication/replication.js";
import type { Wal } from "../storage/index.js";
import type { Writer } from "./writer.js";

/** Why the node's role refuses ingest, in the words publishers get. */
export function refusalOf(code: "READ_ONLY" | "NOT_READY", leaderUrl: string | undefined): TickringError {
  if (code === "NOT_READY") {
    return new TickringError(
      code,
      "this node takes no ingest for now (it is joining its replication group, taking over as leader, " +
        "or cannot renew its leader lease): send again shortly",
    );
  }
  return new TickringError(
    code,
    leaderUrl === undefined
      ? "this node follows the replicated log and takes no ingest; no leader is known right now"
      : `this node follows the replicated log and takes no ingest: publish to the leader at ${leaderUrl}/v1/ingest`,
  );
}

/** The parts a {@link ReplicationHost} is made of. */
export interface ReplicationHostParts {
  walDir: string;
  shared: Float64Array;
  ring: SharedArrayBuffer;
  wal: Wal;
  sequencer: Sequencer;
  writer: Writer;
  url: string;
  log: Logger;
  /** Starts the daemon again (see Daemon.onRestart). */
  restart(reason: string): void;
}

/** A replication node's view of the daemon. */
export function replicationHost(p: ReplicationHostParts): ReplicationHost {
  const { writer, sequencer, wal } = p;
  return {
    walDir: p.walDir,
    shared: p.shared,
    ring: p.ring,
    writer: {
      lastSeq: () => sequencer.lastSeq,
      appendReplicated: (frames, count, firstSeq) => writer.appendReplicated(frames, count, firstSeq),
      commit: () => writer.commit(),
      replicated: (seq) => writer.replicated(seq),
    },
    firstWalSeq: () => wal.segments()[0]?.firstSeq ?? 1,
    writtenSeq: () => wal.writtenSeq,
    url: p.url,
    accept: (until) => writer.refuseIngest(undefined, { until, lapsed: refusalOf("NOT_READY", undefined) }),
    refuse: (code, leaderUrl) => writer.refuseIngest(refusalOf(code, leaderUrl)),
    onStorage: (listener) => {
      let fault: "wal" | "disk" | undefined;
      writer.onRefusal((refusal, cause) => {
        // Told at once too: a disk full at start is a fault from the first.
        const now = cause === "wal" || cause === "disk" ? cause : undefined;
        if (now === fault) return;
        fault = now;
        listener(now, refusal);
      });
    },
    restart: (reason) => {
      p.log.warn({ reason }, "restarting the daemon");
      p.restart(reason);
    },
  };
}
