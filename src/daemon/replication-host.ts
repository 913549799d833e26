/**
 * The daemon's side of replication (src/replication): what a node of a replication group uses of the
 * daemon — the single writer, the WAL, the ring, the shared state — and how its changes of role reach the
 * writer and the socket workers, as the reason ingest is refused (a follower's READ_ONLY names its leader).
 */
import { TickringError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Sequencer } from "../publisher/sequencer.js";
import type { ReplicationHost } from "../replication/replication.js";
import type { Wal } from "../storage/index.js";
import type { IngestRefusal } from "../threads/messages.js";
import type { Writer } from "./writer.js";

/** Why ingest is refused, in the words publishers get. */
export function refusalOf(code: "READ_ONLY" | "NOT_READY", leaderUrl: string | undefined): IngestRefusal {
  if (code === "NOT_READY") {
    return {
      code,
      message:
        "this node takes no ingest for now (it is joining its replication group, taking over as leader, " +
        "or cannot renew its leader lease): send again shortly",
    };
  }
  return {
    code,
    message:
      leaderUrl === undefined
        ? "this node follows the replicated log and takes no ingest; no leader is known right now"
        : `this node follows the replicated log and takes no ingest: publish to the leader at ${leaderUrl}/v1/ingest`,
  };
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
  /** Tells every socket worker why ingest is refused now (undefined: it is taken). */
  tellWorkers(refusal: IngestRefusal | undefined): void;
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
    accept: () => {
      writer.refuseIngest(undefined);
      p.tellWorkers(undefined);
    },
    refuse: (code, leaderUrl) => {
      const refusal = refusalOf(code, leaderUrl);
      writer.refuseIngest(new TickringError(refusal.code, refusal.message));
      p.tellWorkers(refusal);
    },
    restart: (reason) => {
      p.log.warn({ reason }, "restarting the daemon");
      p.restart(reason);
    },
  };
}
