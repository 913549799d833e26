/**
 * What `/v1/ingest` does with a publisher's connection, independent of the transport: a token bucket per
 * connection (`--ingest-rate`), the decode (JSON ticks or binary frames, all or nothing), the hand-off of the
 * encoded frames to the sequencer through the worker's ingest ring, and the replies.
 *
 * The sequencer answers each message in the ring with the seq of its last tick (or an error); the ack goes
 * out once the daemon's durable seq — in shared memory, announced through the ring — reaches it. No message
 * crosses threads for either.
 *
 * Replies keep the order of the messages they answer: an error found here for a later message waits for
 * the acks of earlier ones. Each connection keeps a queue of its messages in flight; a reply is sent once
 * every earlier message has had its own. Every reply echoes the message's envelope `id` when it had one.
 */
import { ERROR_CODES, type ErrorBody, errorBody, type IncidentLogger, TickringError } from "../../errors.js";
import type { Socket } from "../../transport/socket.js";
import type { IngestDecoder } from "./decoder.js";

/** The way to the sequencer: the worker's end of its ingest ring. */
export interface SequencerLink {
  /** Copies a message in; false when the ring has no room until answers are read. */
  tryAppend(conn: number, frames: Uint8Array, length: number, count: number): boolean;
  /** Visits the answers that arrived, oldest first: a seq, or −(1 + an error code's index). */
  takeAnswers(visit: (conn: number, answer: number) => void): number;
}

/** Where the writer stands, read from shared memory whenever answers are settled. */
export interface WriterState {
  /** The highest durable seq: messages up to it are acked. */
  durableSeq(): number;
  /**
   * The error code by which the WAL failed for good (a failed fdatasync), if it did: messages answered with
   * a seq above the durable one will never be durable, and get this error.
   */
  failure(): (typeof ERROR_CODES)[number] | undefined;
  /**
   * Why the writer refuses ingest for now, in the writer's words (a follower's READ_ONLY names its leader),
   * if it does: an answer with that code is told with these words.
   */
  refusal(): { code: (typeof ERROR_CODES)[number]; message: string } | undefined;
}

/** What the endpoint counts, for stats. */
export interface IngestCounters {
  messages: number;
  ticks: number;
  rejected: number;
}

const WAITING = 0;
const SEQUENCED = 1;
const REPLY_READY = 2;

/** A message in flight: waiting for its answer, then (sequenced) for durability, then its reply text. */
interface Pending {
  id: string | number | undefined;
  state: typeof WAITING | typeof SEQUENCED | typeof REPLY_READY;
  seq: number;
  text: string | null;
}

/** A publisher's connection. */
export interface IngestSession {
  /** Unique in its worker; the sequencer answers by it. */
  id: number;
  ws: Socket;
  closed: boolean;
  /** Token bucket: messages that may still be sent now, and when it was last refilled. */
  tokens: number;
  refilledAt: number;
  /** Messages in flight, oldest first, from `head`; `answering` is the first that waits for its answer. */
  pending: Pending[];
  head: number;
  answering: number;
}

/** What an {@link IngestEndpoint} is built from. */
export interface IngestEndpointOptions {
  decoder: IngestDecoder;
  link: SequencerLink;
  writer: WriterState;
  /** Messages per second per connection; 0 = unlimited. */
  ratePerSec: number;
  counters: IngestCounters;
  log: IncidentLogger;
  /** Looks a connection up by id (answers name connections; a closed one is gone). */
  connection(id: number): IngestSession | undefined;
}

/** Messages held while the ring is full, at most; past that a message is refused (LIMIT_REACHED). */
const MAX_HELD = 1024;

export class IngestEndpoint {
  /** Connections with messages in flight. */
  private readonly busy = new Set<IngestSession>();
  /** Messages the ring had no room for, in order, as copies: they go in before any newer message. */
  private readonly held: { conn: IngestSession; frames: Uint8Array; count: number }[] = [];

  constructor(private readonly o: IngestEndpointOptions) {}

  /** Readies a new connection. */
  open(conn: IngestSession): void {
    conn.tokens = this.o.ratePerSec;
    conn.refilledAt = performance.now();
    conn.pending = [];
    conn.head = 0;
    conn.answering = 0;
  }

  /** The connection closed: nothing more is sent on it. */
  closed(conn: IngestSession): void {
    conn.closed = true;
    this.busy.delete(conn);
  }

  /** Whether messages wait for the sequencer or for durability (the worker then waits for ring news). */
  get waiting(): boolean {
    return this.busy.size > 0 || this.held.length > 0;
  }

  /** Handles one message; never throws (a rejected message gets an error, in order). */
  message(conn: IngestSession, data: ArrayBuffer | Uint8Array, isBinary: boolean): void {
    const { counters } = this.o;
    if (this.o.ratePerSec > 0 && !this.takeToken(conn)) {
      counters.rejected++;
      this.refuse(
        conn,
        new TickringError("RATE_LIMITED", `more than ${this.o.ratePerSec} messages/s on this connection`),
      );
      return;
    }
    let decoded;
    try {
      decoded = this.o.decoder.decode(data, isBinary);
    } catch (err) {
      counters.rejected++;
      this.refuse(conn, err);
      return;
    }
    if (
      this.held.length > 0 ||
      !this.o.link.tryAppend(conn.id, decoded.frames, decoded.frames.length, decoded.count)
    ) {
      if (this.held.length >= MAX_HELD) {
        counters.rejected++;
        this.refuse(
          conn,
          new TickringError("LIMIT_REACHED", "the sequencer is behind: send this message again"),
          decoded.id,
        );
        return;
      }
      this.held.push({ conn, frames: decoded.frames.slice(), count: decoded.count });
    }
    counters.messages++;
    counters.ticks += decoded.count;
    conn.pending.push({ id: decoded.id, state: WAITING, seq: 0, text: null });
    this.busy.add(conn);
  }

  /**
   * Takes the sequencer's answers, acks what became durable (and fails what never will), and submits held
   * messages the ring now has room for. Called whenever the ring has news.
   */
  settle(): void {
    this.o.link.takeAnswers(this.onAnswer);
    while (this.held.length > 0) {
      const h = this.held[0];
      if (!this.o.link.tryAppend(h.conn.id, h.frames, h.frames.length, h.count)) break;
      this.held.shift();
    }
    const durable = this.o.writer.durableSeq();
    const failure = this.o.writer.failure();
    for (const conn of this.busy) {
      this.flush(conn, durable, failure);
      if (conn.head === conn.pending.length) this.busy.delete(conn);
    }
  }

  private readonly onAnswer = (connId: number, answer: number): void => {
    const conn = this.o.connection(connId);
    if (conn === undefined || conn.closed) return;
    const q = conn.pending;
    while (conn.answering < q.length && q[conn.answering].state !== WAITING) conn.answering++;
    const p = q[conn.answering++];
    if (p === undefined) return;
    if (answer > 0) {
      p.state = SEQUENCED;
      p.seq = answer;
    } else {
      const code = ERROR_CODES[-answer - 1] ?? "INTERNAL";
      const refusal = this.o.writer.refusal();
      const words = refusal?.code === code ? refusal.message : "the sequencer refused this message";
      this.ready(p, errorBody(new TickringError(code, words), undefined, this.o.log));
    }
  };

  /** A message refused here: its error waits behind the connection's earlier messages. */
  private refuse(conn: IngestSession, err: unknown, id?: string | number): void {
    const p: Pending = { id, state: WAITING, seq: 0, text: null };
    this.ready(p, errorBody(err, undefined, this.o.log));
    if (conn.head === conn.pending.length) this.send(conn, p.text!);
    else conn.pending.push(p);
  }

  private ready(p: Pending, body: ErrorBody): void {
    p.state = REPLY_READY;
    p.text = JSON.stringify(p.id === undefined || body.id !== undefined ? body : { ...body, id: p.id });
  }

  /** Sends every reply at the head of the queue that is due. */
  private flush(
    conn: IngestSession,
    durable: number,
    failure: (typeof ERROR_CODES)[number] | undefined,
  ): void {
    const q = conn.pending;
    while (conn.head < q.length) {
      const p = q[conn.head];
      if (p.state === SEQUENCED) {
        if (p.seq <= durable) {
          p.text =
            p.id === undefined
              ? `{"op":"ack","seq":${p.seq}}`
              : `{"op":"ack","seq":${p.seq},"id":${JSON.stringify(p.id)}}`;
        } else if (failure !== undefined) {
          this.ready(
            p,
            errorBody(
              new TickringError(failure, "the WAL failed before this message was durable"),
              undefined,
              this.o.log,
            ),
          );
        } else break;
      } else if (p.state === WAITING) break;
      this.send(conn, p.text!);
      conn.head++;
    }
    if (conn.head === q.length) {
      q.length = 0;
      conn.head = 0;
      conn.answering = 0;
    } else if (conn.head > 1024 && conn.head * 2 > q.length) {
      q.splice(0, conn.head);
      conn.answering -= conn.head;
      conn.head = 0;
    }
  }

  private send(conn: IngestSession, text: string): void {
    if (!conn.closed) conn.ws.send(text, false);
  }

  private takeToken(conn: IngestSession): boolean {
    const rate = this.o.ratePerSec;
    const now = performance.now();
    conn.tokens = Math.min(rate, conn.tokens + ((now - conn.refilledAt) / 1000) * rate);
    conn.refilledAt = now;
    if (conn.tokens < 1) return false;
    conn.tokens -= 1;
    return true;
  }
}
