/**
 * A node of a replication group, on the main thread: joins the group (the stream, the leader lease, its
 * WAL reconciled with the stream), then leads or follows, and moves between the two.
 *
 * ```
 *                 join: lease taken            lease lost, or an append fenced
 *   (start) ──────────────────────► leader ─────────────────────────────┐
 *      │                              ▲                                  │ nothing unreplicated:
 *      │ lease held elsewhere,        │ lease lapsed: read the stream    ▼ in place
 *      │ --standby, or --follow       │ to its end, append a claim   follower / standby
 *      └────────────────────► follower / standby ◄──────────────────────┘
 *                                                  a tail the stream lacks: the daemon restarts,
 *                                                  and the join cuts it
 * ```
 *
 * Leading: ingest is taken, the replicator thread appends every accepted group to the stream, and (with
 * `--ack-after replicated`) acks wait for JetStream's acknowledgement. Following: ingest is refused with
 * READ_ONLY naming the leader, and a {@link StreamFollower} writes the stream's frames, seqs included. A
 * candidate (`--replicate`) that follows watches the lease and, when it lapses, takes it, reads the stream
 * to its end, appends its claim — fenced, so it lands only if nothing was appended since — and leads from
 * the next seq. A leader's appends are fenced too, so once the claim is in, the former leader's next
 * append fails and it steps down.
 */
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { nowNs } from "../clock.js";
import type { AckAfter, ServeOptions } from "../config/options.js";
import type { TickringError } from "../errors.js";
import type { Logger } from "../logger.js";
import { STATUS_REPLICATED_SEQ, STATUS_REPLICATION_PENDING_NS } from "../threads/shared-state.js";
import { ReplicationError } from "./errors.js";
import { LEASE_TTL_MS, LeaderLease, type LeaseEvents, type LeaseHolder } from "./leader-lease.js";
import { FencedError, NatsLink } from "./nats-link.js";
import { type LocalLog, reconcile } from "./reconcile.js";
import { ReplicatorThread } from "./replicator-thread.js";
import { DivergedError, type ReplicaSink, StreamFollower } from "./stream-follower.js";
import { StreamIndex } from "./stream-index.js";

/** How often a node that does not lead reads the lease (to name the leader, and to take over). */
const WATCH_MS = 500;
/** How long a leader stepping down or stopping waits for the stream to take what its WAL accepted. */
const DRAIN_MS = 5000;

/** The replication settings of a node. */
export interface ReplicationOptions {
  /** nats://host:port[,…] */
  servers: string;
  /** A leader candidate (`--replicate`) or a follower only (`--follow`). */
  candidate: boolean;
  stream: string;
  replicas: number;
  ackAfter: AckAfter;
  standby: boolean;
  logLevel: string;
}

/** The replication settings of `o`, or undefined when it does not replicate. */
export function replicationOf(o: ServeOptions): ReplicationOptions | undefined {
  const servers = o.replicate ?? o.follow;
  if (servers === undefined) return undefined;
  return {
    servers,
    candidate: o.replicate !== undefined,
    stream: o.stream,
    replicas: o.streamReplicas,
    ackAfter: o.ackAfter,
    standby: o.standby,
    logLevel: o.logLevel,
  };
}

/** What a node needs of its daemon. */
export interface ReplicationHost {
  walDir: string;
  shared: Float64Array;
  /** The broadcast ring (the replicator thread wakes on it). */
  ring: SharedArrayBuffer;
  /** The single writer. */
  writer: ReplicaSink & {
    /** Acks wait for the stream up to `seq` (`--ack-after replicated`). */
    replicated(seq: number): void;
  };
  /** The oldest seq the WAL holds (1 when it is empty). */
  firstWalSeq(): number;
  /** The highest seq the WAL accepted. */
  writtenSeq(): number;
  /** ws://host:port of this node. */
  url: string;
  /** Take ingest (this node leads) while `until()` (ms since the epoch, checked at each commit) is ahead. */
  accept(until: () => number): void;
  /** Refuse ingest: READ_ONLY naming the leader's url (when known), or NOT_READY while taking over. */
  refuse(code: "READ_ONLY" | "NOT_READY", leaderUrl: string | undefined): void;
  /** This node must start again (it holds seqs the stream does not, which only a join can cut). */
  restart(reason: string): void;
  /**
   * Calls `listener` with the node's storage fault now (if any), and whenever its storage stops taking writes — `wal`: the WAL failed for good (until a
   * restart); `disk`: a write failed (a full disk), until the writer finds room — and when it takes them
   * again (undefined). `why` is the writer's error.
   */
  onStorage(listener: (fault: "wal" | "disk" | undefined, why: TickringError | undefined) => void): void;
}

export type Role = "joining" | "leader" | "taking over" | "follower" | "standby" | "failed" | "stopped";

/** Replication figures for /v1/stats and /metrics. */
export interface ReplicationStats {
  role: Role;
  stream: string;
  node: string;
  /** ws://host:port of the leader, when known. */
  leader: string | null;
  ackAfter: AckAfter;
  /** A leader: the highest seq the stream acknowledged. A follower: the highest seq applied from it. */
  replicatedSeq: number;
  /** A leader: seqs accepted but not yet in the stream. A follower: seqs in the stream not yet applied. */
  lagSeqs: number;
  /** A leader: age of the oldest seq not yet in the stream. A follower: ts_recv to applied, last frame. */
  lagMs: number;
}

export class Replication {
  private role: Role = "joining";
  private host: ReplicationHost | undefined;
  private follower: StreamFollower | undefined;
  private replicator: ReplicatorThread | undefined;
  private leaderUrl: string | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private watching = false;
  /** Bumped on every change of role: an async step of an older role sees it and gives up. */
  private epoch = 0;
  /** A standby does not take a free lease before this (the preferred leader starting beside it wins). */
  private claimAfter = 0;
  /** The last seq the stream is known to hold (from the join, then from what the follower reads). */
  private streamLastSeq: number;
  /** Following stopped for a failed write (a full disk): it starts again once the writer has room. */
  private waitingForRoom = false;

  private constructor(
    private readonly o: ReplicationOptions,
    private readonly log: Logger,
    private readonly link: NatsLink,
    private readonly lease: LeaderLease,
    private readonly index: StreamIndex,
    private readonly id: string,
    streamLastSeq: number,
  ) {
    this.streamLastSeq = streamLastSeq;
  }

  /**
   * Joins the group before the daemon serves: connects, creates or checks the stream, takes the lease if
   * this node is a leader candidate and not a standby, and compares the recovered WAL with the stream.
   * Returns the node and, when the WAL holds seqs the stream does not, the seq to cut it after (the daemon
   * cuts and recovers again before serving). Throws {@link ReplicationError}.
   */
  static async join(
    o: ReplicationOptions,
    log: Logger,
    local: LocalLog,
  ): Promise<{ replication: Replication; cutAfter?: number }> {
    const id = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const link = await NatsLink.connect(o.servers, o.stream, `tickring ${id}`);
    const lease = new LeaderLease(
      await link.leaseBucket(LEASE_TTL_MS, o.candidate ? o.replicas : undefined).catch(async (err) => {
        await link.close();
        throw err;
      }),
      { id, url: "" },
    );
    let r: Replication | undefined;
    try {
      await link.ensureStream({
        replicas: o.candidate ? o.replicas : undefined,
        create: o.candidate,
        waiting: () => log.info({ stream: o.stream }, "waiting for a leader to create the stream"),
      });
      const index = new StreamIndex(link);
      const held = o.candidate && !o.standby && (await lease.acquire(leaseEventsOf(() => r)));
      const reconciled = await reconcile(index, local);
      r = new Replication(o, log, link, lease, index, id, reconciled.streamLastSeq);
      log.info(
        {
          stream: o.stream,
          node: id,
          lease: held ? "taken" : o.candidate ? "held elsewhere, or standby" : "follower",
          walLastSeq: local.lastSeq,
          streamLastSeq: reconciled.streamLastSeq,
          cutAfter: reconciled.cutAfter,
        },
        "joined the replication group",
      );
      return { replication: r, cutAfter: reconciled.cutAfter };
    } catch (err) {
      await lease.release().catch(() => {});
      await link.close();
      throw err;
    }
  }

  /** Starts leading or following, once the daemon's workers listen (`host.url` is known). */
  start(host: ReplicationHost): void {
    this.host = host;
    this.lease.advertise(host.url);
    this.claimAfter = this.o.standby ? Date.now() + LEASE_TTL_MS : 0;
    this.watchTimer = setInterval(() => void this.watch(), WATCH_MS);
    if (this.lease.held) void this.lead();
    else void this.followStream();
    // After the role is set: a storage fault already there (a disk full at start) applies to it at once.
    host.onStorage((fault, why) => this.storageChanged(fault, why));
  }

  /**
   * The WAL must keep every seq above this: a leader's replicator reads what the stream lacks from the WAL
   * (and any node keeps a tail the stream lacks, which it replicates if it leads).
   */
  walNeededAfter(): number {
    if (this.role === "leader") return this.host?.shared[STATUS_REPLICATED_SEQ] ?? 0;
    return this.streamLastSeq;
  }

  /** Figures for /v1/stats and /metrics. */
  stats(): ReplicationStats {
    const shared = this.host?.shared;
    const replicatedSeq = shared?.[STATUS_REPLICATED_SEQ] ?? 0;
    let lagSeqs = 0;
    let lagMs = 0;
    if (this.role === "leader" && shared !== undefined) {
      lagSeqs = Math.max(0, this.host!.writtenSeq() - replicatedSeq);
      const pending = shared[STATUS_REPLICATION_PENDING_NS];
      lagMs = pending > 0 ? Math.max(0, (Number(nowNs()) - pending) / 1e6) : 0;
    } else if (this.follower !== undefined) {
      lagSeqs = Math.max(0, this.streamLastSeq - this.host!.writer.lastSeq());
      lagMs = lagSeqs > 0 ? this.follower.lagMs : 0;
    }
    return {
      role: this.role,
      stream: this.o.stream,
      node: this.id,
      leader: this.leaderUrl ?? null,
      ackAfter: this.o.ackAfter,
      replicatedSeq,
      lagSeqs,
      lagMs: Math.round(lagMs * 1000) / 1000,
    };
  }

  /**
   * Leaves the group: stops following, or (leading) lets the stream take what the WAL accepted — call it
   * after the last ingest is written — and hands the lease back so a standby need not wait it out.
   */
  async stop(): Promise<void> {
    this.setRole("stopped");
    clearInterval(this.watchTimer);
    this.follower?.stop();
    if (this.replicator !== undefined) {
      const seq = await this.replicator.stop(DRAIN_MS);
      this.log.info({ seq }, "replicated up to seq at shutdown");
    }
    await this.lease.release().catch(() => {});
    await this.link.close();
  }

  /** Follows the stream from this node's next seq (a follower, or a candidate waiting for the lease). */
  private async followStream(): Promise<void> {
    const epoch = this.setRole(this.o.candidate ? "standby" : "follower");
    this.host!.refuse("READ_ONLY", this.leaderUrl);
    await this.startFollower(epoch);
  }

  /** Starts reading the stream into this node's WAL, from its next seq, for the role of `epoch`. */
  private async startFollower(epoch: number): Promise<void> {
    const host = this.host!;
    try {
      const from = await this.resumePoint(host.writer.lastSeq());
      if (epoch !== this.epoch) return;
      const follower = new StreamFollower(
        this.link,
        host.writer,
        host.walDir,
        {
          applied: (seq) => {
            host.shared[STATUS_REPLICATED_SEQ] = seq;
            if (follower.streamLastSeq > this.streamLastSeq) this.streamLastSeq = follower.streamLastSeq;
          },
          failed: (err) => this.followingFailed(err, epoch),
        },
        from,
      );
      this.follower = follower;
      await follower.start();
      this.log.info(
        { role: this.role, fromStreamSeq: from, seq: host.writer.lastSeq() },
        "following the stream",
      );
    } catch (err) {
      this.followingFailed(err, epoch);
    }
  }

  /** The stream seq to read from so that the first new frame is `lastSeq + 1`. */
  private async resumePoint(lastSeq: number): Promise<number> {
    const at = await this.index.locate(lastSeq + 1);
    if (at.kind === "held") return at.batch.streamSeq;
    if (at.kind === "after") return at.streamSeq;
    throw new ReplicationError(
      this.o.stream,
      `this node ends at seq ${lastSeq} but the stream's oldest frame is ${at.firstSeq}: ` +
        "seed this node from a snapshot of the leader (tickring snapshot create, then restore here)",
    );
  }

  private followingFailed(err: unknown, epoch: number): void {
    if (epoch !== this.epoch) return;
    this.follower = undefined;
    if (err instanceof DivergedError) {
      this.setRole("stopped");
      this.host!.restart(`${err.message}: restarting to cut this node's tail`);
      return;
    }
    this.setRole("failed");
    this.log.error({ err }, "following the stream stopped: this node serves what it has and takes no ingest");
  }

  /** Becomes the leader (the lease is ours): catches up with the stream, appends the claim, replicates. */
  private async lead(): Promise<void> {
    const epoch = this.setRole("taking over");
    const host = this.host!;
    host.refuse("NOT_READY", undefined);
    for (let delay = 100; ; delay = Math.min(2000, delay * 2)) {
      if (epoch !== this.epoch) return;
      try {
        const claimed = await this.claim(epoch);
        if (claimed === undefined) return;
        await this.startReplicating(epoch, claimed);
        return;
      } catch (err) {
        if (epoch !== this.epoch) return;
        this.log.warn({ err }, "taking over as leader failed: trying again");
        await sleep(delay);
      }
    }
  }

  /**
   * Reads the stream to its end and appends this node's claim there; retries from the new end when another
   * node appended meanwhile. Resolves with the first seq to replicate and the claim's stream seq, or
   * undefined when this node gave up leading (or must restart).
   */
  private async claim(epoch: number): Promise<{ fromSeq: number; claimSeq: number } | undefined> {
    const host = this.host!;
    for (;;) {
      const end = await this.index.locate(Number.MAX_SAFE_INTEGER);
      if (end.kind !== "after") throw new ReplicationError(this.o.stream, "cannot find the stream's end");
      const mine = host.writer.lastSeq();
      if (mine < end.lastSeq) {
        // Behind the stream (a standby not yet caught up, or appends of the last leader since): read on.
        await this.catchUp(epoch, end.streamSeq - 1);
        if (epoch !== this.epoch) return undefined;
        continue;
      }
      this.follower?.stop();
      this.follower = undefined;
      const fromSeq = Math.max(end.lastSeq + 1, host.firstWalSeq());
      try {
        const claimSeq = await this.link.publish(
          new Uint8Array(0),
          { firstSeq: fromSeq, count: 0, leader: this.id },
          { lastSeq: end.streamSeq - 1 },
        );
        return { fromSeq, claimSeq };
      } catch (err) {
        if (!(err instanceof FencedError)) throw err;
        if (mine > end.lastSeq) {
          // This node's tail (seqs it never replicated) now faces another node's appends: only a join can cut it.
          this.setRole("stopped");
          host.restart(
            "another node appended to the stream while this one was taking over with unreplicated seqs",
          );
          return undefined;
        }
        // Another node appended since the stream's end was read: read on, and claim again.
      }
    }
  }

  /** Follows the stream until it has applied message `streamSeq`. */
  private async catchUp(epoch: number, streamSeq: number): Promise<void> {
    if (this.follower === undefined) await this.startFollower(epoch);
    if (this.follower === undefined) throw new ReplicationError(this.o.stream, "cannot follow the stream");
    await this.follower.reached(streamSeq);
  }

  private async startReplicating(epoch: number, c: { fromSeq: number; claimSeq: number }): Promise<void> {
    const host = this.host!;
    const replicator = await ReplicatorThread.start(
      {
        servers: this.o.servers,
        stream: this.o.stream,
        leader: this.id,
        walDir: host.walDir,
        shared: host.shared,
        ring: host.ring,
        fromSeq: c.fromSeq,
        afterStreamSeq: c.claimSeq,
        announce: this.o.ackAfter === "replicated",
        logLevel: this.o.logLevel,
      },
      {
        progress: (seq) => {
          if (this.o.ackAfter === "replicated") host.writer.replicated(seq);
        },
        fenced: (by) => void this.stepDown(`an append was fenced: node ${by} leads`, epoch),
        failed: (message) => void this.stepDown(`the replicator failed: ${message}`, epoch),
      },
    );
    if (epoch !== this.epoch) {
      await replicator.stop(0);
      return;
    }
    this.replicator = replicator;
    if (this.o.ackAfter === "replicated") host.writer.replicated(c.fromSeq - 1);
    this.setRole("leader", epoch);
    this.leaderUrl = host.url;
    host.accept(this.safeUntil);
    this.log.info(
      { stream: this.o.stream, fromSeq: c.fromSeq, claimStreamSeq: c.claimSeq, ackAfter: this.o.ackAfter },
      "leading: taking ingest",
    );
  }

  /**
   * No longer the leader (another node appended, or holds the lease): refuses ingest at once, stops
   * replicating, and follows — in place when the stream holds every seq this node has, otherwise through
   * a restart whose join cuts the rest.
   *
   * `storage`: this node's own storage failed (its WAL for good, or a write while taking over). It lets the
   * stream take what its WAL accepted (acks under `--ack-after durable` may have gone out for it), hands
   * the lease back so a standby leads at once, and follows nothing: `failed` until a restart, or, on a
   * full disk, until the writer has room ({@link storageChanged}).
   */
  private async stepDown(why: string, epoch: number, storage?: "wal" | "disk"): Promise<void> {
    if (epoch !== this.epoch || (this.role !== "leader" && this.role !== "taking over")) return;
    const host = this.host!;
    this.setRole("joining");
    this.leaderUrl = undefined;
    host.refuse("READ_ONLY", undefined);
    this.follower?.stop();
    this.follower = undefined;
    if (storage !== undefined) {
      const seq = await this.replicator?.stop(DRAIN_MS);
      this.replicator = undefined;
      await this.lease.release().catch(() => this.lease.abandon());
      this.setRole("failed");
      this.waitingForRoom = storage === "disk";
      this.log.error(
        { why, replicated: seq, written: host.writtenSeq() },
        "stepped down: this node's storage failed; it serves what it has and takes no ingest",
      );
      return;
    }
    this.lease.abandon();
    // Taking over, nothing was replicated by this node: what the stream holds of its seqs is what it read.
    const replicated =
      this.replicator !== undefined
        ? await this.replicator.stop(0)
        : Math.min(this.streamLastSeq, host.writtenSeq());
    this.replicator = undefined;
    const unreplicated = host.writtenSeq() - replicated;
    this.log.warn({ why, replicated, unreplicated }, "stepping down: another node leads");
    if (unreplicated > 0) {
      this.setRole("stopped");
      host.restart(`stepped down with ${unreplicated} seqs the stream does not hold`);
      return;
    }
    await this.followStream();
  }

  /**
   * The writer's storage failed or recovered. A leader whose WAL failed steps down (a full disk only stops
   * its ingest until there is room: it still leads). A node taking over steps down on either. A follower
   * stops following — its frames could not be written — and, on a full disk, follows again from its last
   * seq once the writer has room.
   */
  private storageChanged(fault: "wal" | "disk" | undefined, why: TickringError | undefined): void {
    const reason = `${why?.code ?? "storage"}: ${why?.message ?? "the WAL cannot write"}`;
    switch (this.role) {
      case "leader":
        if (fault === "wal") void this.stepDown(reason, this.epoch, fault);
        return;
      case "taking over":
        if (fault !== undefined) void this.stepDown(reason, this.epoch, fault);
        return;
      case "follower":
      case "standby":
        if (fault === undefined) return;
        this.follower?.stop();
        this.follower = undefined;
        this.setRole("failed");
        this.waitingForRoom = fault === "disk";
        this.log.error(
          { why: reason, seq: this.host!.writer.lastSeq() },
          fault === "disk"
            ? "stopped following the stream: the disk is full; following again once it has room"
            : "stopped following the stream: the WAL failed; this node serves what it has until a restart",
        );
        return;
      case "failed":
        if (fault === "wal") this.waitingForRoom = false;
        if (fault !== undefined || !this.waitingForRoom) return;
        this.waitingForRoom = false;
        this.log.info({ seq: this.host!.writer.lastSeq() }, "the disk has room again: following the stream");
        void this.followStream();
        return;
      default:
        return;
    }
  }

  /** Every {@link WATCH_MS} while not leading: names the leader, and takes over when a candidate finds no lease. */
  private async watch(): Promise<void> {
    if (this.watching || this.role === "leader" || this.role === "taking over" || this.role === "stopped")
      return;
    this.watching = true;
    try {
      const holder = await this.lease.holder();
      this.noteLeader(holder);
      if (this.role === "follower" || this.role === "standby") {
        const end = await this.link.lastBatch();
        if (end !== null) this.streamLastSeq = Math.max(this.streamLastSeq, end.firstSeq + end.count - 1);
      }
      if (holder === null && this.role === "standby" && Date.now() >= this.claimAfter) {
        if (await this.lease.acquire(leaseEventsOf(() => this))) {
          this.log.info({ stream: this.o.stream }, "the leader's lease lapsed: taking over");
          void this.lead();
        }
      }
    } catch (err) {
      this.log.debug({ err }, "cannot read the lease now");
    } finally {
      this.watching = false;
    }
  }

  private noteLeader(holder: LeaseHolder | null): void {
    const url = holder === null || holder.url === "" ? undefined : holder.url;
    if (url === this.leaderUrl) return;
    this.leaderUrl = url;
    if (this.role === "follower" || this.role === "standby" || this.role === "failed") {
      this.host!.refuse("READ_ONLY", url);
    }
    this.log.info({ leader: url ?? null }, url === undefined ? "no leader now" : "the leader is at this url");
  }

  /** The lease told the leader something. */
  onLease(event: "lost" | "lapsed" | "renewed", holder?: LeaseHolder | null): void {
    const host = this.host;
    if (host === undefined) return;
    switch (event) {
      case "lost":
        void this.stepDown(`the lease is held by ${holder?.id ?? "nobody"}`, this.epoch);
        return;
      case "lapsed":
        if (this.role !== "leader") return;
        this.log.warn("cannot renew the leader lease: refusing ingest until it is renewed");
        host.refuse("NOT_READY", undefined);
        return;
      case "renewed":
        if (this.role !== "leader") return;
        this.log.info("leader lease renewed: taking ingest again");
        host.accept(this.safeUntil);
        return;
    }
  }

  private readonly safeUntil = (): number => this.lease.safeUntil;

  /** Moves to `role`; returns the new epoch (or keeps `epoch` when given: the same step continues). */
  private setRole(role: Role, epoch?: number): number {
    this.role = role;
    this.epoch = epoch ?? this.epoch + 1;
    return this.epoch;
  }
}

/** Lease events for the node `r()` (created after the lease was taken, during the join). */
function leaseEventsOf(r: () => Replication | undefined): LeaseEvents {
  return {
    lost: (holder) => r()?.onLease("lost", holder),
    lapsed: () => r()?.onLease("lapsed"),
    renewed: () => r()?.onLease("renewed"),
  };
}
