/**
 * The one seam to NATS (nats.js, the `nats` package): a connection, the stream that holds the replicated
 * log (created with tickring's settings when missing, checked when present), fenced publishes of batches,
 * stored batches by stream seq, an ordered consumer, and the KV bucket of the leader lease. Nothing else in
 * tickring imports `nats`; everything here speaks in batches ({@link ./batch-layout.ts}), not NATS messages.
 *
 * The stream: file storage, `--stream-replicas` copies (JetStream's Raft), limits retention — messages
 * older than {@link STREAM_MAX_AGE_MS} are dropped, which bounds how long a follower may be away — deletes
 * of single messages denied (a hole would stop every follower), and a duplicate window for re-sent batches.
 */
import {
  connect,
  DeliverPolicy,
  DiscardPolicy,
  headers,
  type KV,
  type MsgHdrs,
  type NatsConnection,
  type NatsError,
  nanos,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "nats";
import {
  type BatchHeaders,
  batchMsgId,
  COUNT_HEADER,
  LEADER_HEADER,
  MAX_MESSAGE_BYTES,
  parseBatchHeaders,
  SEQ_HEADER,
} from "./batch-layout.js";
import { ReplicationError } from "./errors.js";

/** Messages of the stream older than this are dropped: a follower away longer must be seeded again. */
export const STREAM_MAX_AGE_MS = 24 * 3_600_000;
/** JetStream drops a batch re-sent with the same message id within this long. */
const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** How long a request to the server (publish, info, get) may take before it counts as failed. */
const REQUEST_TIMEOUT_MS = 5000;
/**
 * The ordered consumer asks for this many batches at a time (at most 64 × 512 KiB buffered). By count, not
 * bytes: pulls bounded by bytes stalled against nats-server 2.9 once batches grew (the follower stopped
 * reading, seen in bench/replication).
 */
const CONSUME_MESSAGES = 64;

/** JetStream's API error codes that mean something here. */
const WRONG_LAST_SEQUENCE = 10071;
const WRONG_LAST_MSG_ID = 10070;
const STREAM_NOT_FOUND = 10059;
const NO_MESSAGE_FOUND = 10037;

/** A batch as stored in the stream. */
export interface StoredBatch extends BatchHeaders {
  /** Its position in the stream (JetStream's own sequence, one per message). */
  streamSeq: number;
  /** The frames; a view that is valid during the callback that got it. */
  data: Uint8Array;
}

/** The stream's extent in its own sequence: messages `firstSeq…lastSeq`, none when `messages` is 0. */
export interface StreamExtent {
  firstSeq: number;
  lastSeq: number;
  messages: number;
}

/** A publish was refused by the fence: the stream no longer ends where the publisher believed. */
export class FencedError extends Error {
  override name = "FencedError";
}

/** The leader lease's key, as the KV bucket holds it. */
export interface LeaseEntry {
  value: string;
  revision: number;
}

/** A running ordered consumer. */
export interface Following {
  stop(): void;
}

/** A connection to NATS for one stream. */
export class NatsLink {
  /** The one subject the stream captures. */
  readonly subject: string;

  private constructor(
    private readonly nc: NatsConnection,
    readonly stream: string,
  ) {
    this.subject = `${stream}.log`;
  }

  /**
   * Connects to `servers` (nats://host:port, comma-separated for a cluster); reconnects by itself after.
   * Throws {@link ReplicationError} when no server answers.
   */
  static async connect(servers: string, stream: string, name: string): Promise<NatsLink> {
    const list = servers.split(",").map((s) => s.trim().replace(/^nats:\/\//, ""));
    try {
      const nc = await connect({
        servers: list,
        name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        timeout: REQUEST_TIMEOUT_MS,
      });
      return new NatsLink(nc, stream);
    } catch (err) {
      throw new ReplicationError(stream, `cannot reach NATS at ${servers}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /**
   * Creates the stream with `replicas` copies when it is missing, or checks that the one there fits
   * (its subject, limits retention, a message size a full batch fits in, and `replicas` when given).
   * With `create` false (a follower) it waits for the stream instead, calling `waiting` once.
   */
  async ensureStream(o: { replicas?: number; create: boolean; waiting?: () => void }): Promise<void> {
    const jsm = await this.nc.jetstreamManager({ timeout: REQUEST_TIMEOUT_MS });
    for (let told = false; ;) {
      let config: StreamConfig;
      try {
        config = (await jsm.streams.info(this.stream)).config;
      } catch (err) {
        if (apiCode(err) !== STREAM_NOT_FOUND) throw this.failure("cannot read the stream", err);
        if (!o.create) {
          if (!told) o.waiting?.();
          told = true;
          await sleep(500);
          continue;
        }
        await this.createStream(o.replicas ?? 1);
        return;
      }
      this.checkStream(config, o.replicas);
      return;
    }
  }

  private async createStream(replicas: number): Promise<void> {
    const jsm = await this.nc.jetstreamManager({ timeout: REQUEST_TIMEOUT_MS });
    try {
      await jsm.streams.add({
        name: this.stream,
        subjects: [this.subject],
        storage: StorageType.File,
        num_replicas: replicas,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        max_age: nanos(STREAM_MAX_AGE_MS),
        max_msg_size: MAX_MESSAGE_BYTES,
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        deny_delete: true,
      });
    } catch (err) {
      // Two leaders starting at once both try: the loser finds the winner's stream.
      const info = await jsm.streams.info(this.stream).catch(() => null);
      if (info === null) throw this.failure(`cannot create the stream (R${replicas})`, err);
      this.checkStream(info.config, replicas);
    }
  }

  private checkStream(c: StreamConfig, replicas: number | undefined): void {
    const problems: string[] = [];
    if (!(c.subjects ?? []).includes(this.subject)) {
      problems.push(`its subjects ${JSON.stringify(c.subjects)} lack ${this.subject}`);
    }
    if (c.retention !== RetentionPolicy.Limits) {
      problems.push(`its retention is ${c.retention}, not limits (messages would go once consumed)`);
    }
    if (c.max_msg_size !== undefined && c.max_msg_size > 0 && c.max_msg_size < MAX_MESSAGE_BYTES) {
      problems.push(`its max_msg_size ${c.max_msg_size} is below a full batch (${MAX_MESSAGE_BYTES})`);
    }
    if (replicas !== undefined && c.num_replicas !== replicas) {
      problems.push(`it has ${c.num_replicas} replicas, not the ${replicas} asked for (nats stream edit)`);
    }
    if (problems.length > 0) throw new ReplicationError(this.stream, `does not fit: ${problems.join("; ")}`);
  }

  /** The stream's extent now. */
  async extent(): Promise<StreamExtent> {
    const jsm = await this.nc.jetstreamManager({ timeout: REQUEST_TIMEOUT_MS });
    try {
      const { state } = await jsm.streams.info(this.stream);
      return { firstSeq: state.first_seq, lastSeq: state.last_seq, messages: state.messages };
    } catch (err) {
      throw this.failure("cannot read the stream's state", err);
    }
  }

  /** The batch at stream seq `streamSeq`, or null when the stream does not hold it (any more). */
  async batchAt(streamSeq: number): Promise<StoredBatch | null> {
    return this.getBatch({ seq: streamSeq });
  }

  /** The stream's last batch, or null when it holds none. */
  async lastBatch(): Promise<StoredBatch | null> {
    return this.getBatch({ last_by_subj: this.subject });
  }

  private async getBatch(q: { seq: number } | { last_by_subj: string }): Promise<StoredBatch | null> {
    const jsm = await this.nc.jetstreamManager({ timeout: REQUEST_TIMEOUT_MS });
    try {
      const m = await jsm.streams.getMessage(this.stream, q);
      return this.batchOf(m.seq, m.header, m.data);
    } catch (err) {
      if (apiCode(err) === NO_MESSAGE_FOUND) return null;
      if (err instanceof ReplicationError) throw err;
      throw this.failure("cannot read a message of the stream", err);
    }
  }

  /**
   * Appends a batch if the stream's last message is `fence.lastSeq` — and, when given, has the message id
   * `fence.lastMsgId` (see replicator.ts: batches in flight behind one that failed must not land after
   * another node's claim); resolves with its stream seq. Rejects with {@link FencedError} when the stream
   * ends elsewhere, or with the transport's error. A batch re-sent with the same seqs inside the duplicate
   * window resolves with the stored one's seq.
   */
  async publish(
    payload: Uint8Array,
    b: BatchHeaders,
    fence: { lastSeq: number; lastMsgId?: string },
  ): Promise<number> {
    const h = headers();
    h.set(SEQ_HEADER, String(b.firstSeq));
    h.set(COUNT_HEADER, String(b.count));
    h.set(LEADER_HEADER, b.leader);
    try {
      const ack = await this.nc.jetstream({ timeout: REQUEST_TIMEOUT_MS }).publish(this.subject, payload, {
        headers: h,
        // A claim's id is unique to its position, so a claim sent again is recognised and never stored twice.
        msgID: b.count > 0 ? batchMsgId(b.firstSeq, b.count) : `claim:${b.leader}:${fence.lastSeq}`,
        expect: { lastSequence: fence.lastSeq, lastMsgID: fence.lastMsgId },
      });
      return ack.seq;
    } catch (err) {
      const code = apiCode(err);
      if (code === WRONG_LAST_SEQUENCE || code === WRONG_LAST_MSG_ID) {
        throw new FencedError((err as Error).message);
      }
      throw err;
    }
  }

  /**
   * Reads the stream from stream seq `fromSeq` on, in order, with an ordered consumer: `onBatch` gets each
   * batch (its data valid during the call) and how many messages follow it in the stream now. A throw from
   * `onBatch` (or a message that is no batch) stops the reading and goes to `onError`.
   */
  async follow(
    fromSeq: number,
    onBatch: (b: StoredBatch, pending: number) => void,
    onError: (err: unknown) => void,
  ): Promise<Following> {
    const consumer = await this.nc.jetstream({ timeout: REQUEST_TIMEOUT_MS }).consumers.get(this.stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(1, fromSeq),
    });
    let stopped = false;
    const messages = await consumer.consume({
      max_messages: CONSUME_MESSAGES,
      callback: (m) => {
        if (stopped) return;
        try {
          onBatch(this.batchOf(m.seq, m.headers, m.data), m.info.pending);
        } catch (err) {
          stop();
          onError(err);
        }
      },
    });
    const stop = () => {
      stopped = true;
      void messages.stop();
    };
    return { stop };
  }

  /**
   * The KV bucket of the leader lease: one key, gone `ttlMs` after it was last written. Created with
   * `replicas` copies when missing; with `replicas` undefined (a follower, which only reads it) it is not
   * created, and reads as empty until a leader creates it.
   */
  async leaseBucket(ttlMs: number, replicas: number | undefined): Promise<LeaseBucket> {
    try {
      const kv = await this.nc.jetstream({ timeout: REQUEST_TIMEOUT_MS }).views.kv(`${this.stream}-leader`, {
        history: 1,
        ttl: ttlMs,
        replicas: replicas ?? 1,
        timeout: REQUEST_TIMEOUT_MS,
        bindOnly: replicas === undefined,
      });
      return new LeaseBucket(kv);
    } catch (err) {
      throw this.failure("cannot open the lease bucket", err);
    }
  }

  /** Flushes what is buffered and closes the connection. */
  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close());
  }

  private batchOf(streamSeq: number, h: MsgHdrs | undefined, data: Uint8Array): StoredBatch {
    const b = parseBatchHeaders((name) => h?.get(name) ?? "");
    if (b === null) {
      throw new ReplicationError(
        this.stream,
        `message ${streamSeq} is not a tickring batch (wrong publisher?)`,
      );
    }
    return { ...b, streamSeq, data };
  }

  private failure(what: string, err: unknown): ReplicationError {
    return new ReplicationError(this.stream, `${what}: ${(err as Error).message}`, { cause: err });
  }
}

/** The lease key in its bucket: conditional writes only, so two nodes never both hold it. */
export class LeaseBucket {
  private static readonly KEY = "leader";

  constructor(private readonly kv: KV) {}

  /** The key now, or null when nobody holds it (never written, deleted, or aged out). */
  async get(): Promise<LeaseEntry | null> {
    let e;
    try {
      e = await this.kv.get(LeaseBucket.KEY);
    } catch (err) {
      if (apiCode(err) === STREAM_NOT_FOUND) return null; // no leader has created the bucket yet
      throw err;
    }
    if (e === null || e.operation !== "PUT") return null;
    return { value: e.string(), revision: e.revision };
  }

  /** Writes the key if nobody holds it: its revision, or null when somebody does. */
  async create(value: string): Promise<number | null> {
    return this.conditional(() => this.kv.create(LeaseBucket.KEY, value));
  }

  /** Rewrites the key if it is still at `revision`: the new revision, or null when it moved. */
  async update(value: string, revision: number): Promise<number | null> {
    return this.conditional(() => this.kv.update(LeaseBucket.KEY, value, revision));
  }

  /** Deletes the key if it is still at `revision` (a clean hand-over: a standby need not wait it out). */
  async delete(revision: number): Promise<void> {
    await this.kv.delete(LeaseBucket.KEY, { previousSeq: revision }).catch(() => {});
  }

  private async conditional(write: () => Promise<number>): Promise<number | null> {
    try {
      return await write();
    } catch (err) {
      if (apiCode(err) === WRONG_LAST_SEQUENCE) return null;
      throw err;
    }
  }
}

function apiCode(err: unknown): number | undefined {
  return (err as NatsError | undefined)?.api_error?.err_code;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
