/**
 * What `/v1/ingest` does with a publisher's connection, independent of the transport: a token bucket per
 * connection (`--ingest-rate`), the decode (JSON ticks or binary frames, all or nothing), the hand-off of the
 * encoded frames to the sequencer, and the replies.
 *
 * Replies keep the order of the messages they answer: an `ack` waits for its seqs to be durable, and an
 * error found here for a later message must not overtake it. Each connection keeps a queue of its messages
 * in flight; a reply is sent once every earlier message has had its own. Every reply echoes the message's
 * envelope `id` when it had one.
 */
import { type ErrorBody, errorBody, type IncidentLogger, TickringError } from "../../errors.js";
import type { Socket } from "../../transport/socket.js";
import type { IngestDecoder } from "./decoder.js";

/** The way to the sequencer: it answers each submission with {@link IngestEndpoint.acked} or `.rejected`, in order. */
export interface SequencerLink {
  submit(conn: number, frames: ArrayBuffer, count: number): void;
}

/** What the endpoint counts, for stats. */
export interface IngestCounters {
  messages: number;
  ticks: number;
  rejected: number;
}

/** A message waiting for its reply: `text` is null until the sequencer answered it. */
interface Pending {
  id: string | number | undefined;
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
  /** Messages in flight, oldest first, from `head`. */
  pending: Pending[];
  head: number;
}

/** What an {@link IngestEndpoint} is built from. */
export interface IngestEndpointOptions {
  decoder: IngestDecoder;
  link: SequencerLink;
  /** Messages per second per connection; 0 = unlimited. */
  ratePerSec: number;
  counters: IngestCounters;
  log: IncidentLogger;
}

export class IngestEndpoint {
  constructor(private readonly o: IngestEndpointOptions) {}

  /** Readies a new connection. */
  open(conn: IngestSession): void {
    conn.tokens = this.o.ratePerSec;
    conn.refilledAt = performance.now();
    conn.pending = [];
    conn.head = 0;
  }

  /** Handles one message; never throws (a rejected message gets an error, in order). */
  message(conn: IngestSession, data: ArrayBuffer | Uint8Array, isBinary: boolean): void {
    const { counters } = this.o;
    if (this.o.ratePerSec > 0 && !this.takeToken(conn)) {
      counters.rejected++;
      const limit = new TickringError(
        "RATE_LIMITED",
        `more than ${this.o.ratePerSec} messages/s on this connection`,
      );
      this.reply(conn, { id: undefined, text: null }, errorBody(limit));
      return;
    }
    let decoded;
    try {
      decoded = this.o.decoder.decode(data, isBinary);
    } catch (err) {
      counters.rejected++;
      this.reply(conn, { id: undefined, text: null }, errorBody(err, undefined, this.o.log));
      return;
    }
    counters.messages++;
    counters.ticks += decoded.count;
    conn.pending.push({ id: decoded.id, text: null });
    this.o.link.submit(conn.id, decoded.frames, decoded.count);
  }

  /** The sequencer made the oldest message in flight durable, up to `seq`. */
  acked(conn: IngestSession, seq: number): void {
    const p = conn.pending[conn.head];
    if (p === undefined) return;
    p.text =
      p.id === undefined
        ? `{"op":"ack","seq":${seq}}`
        : `{"op":"ack","seq":${seq},"id":${JSON.stringify(p.id)}}`;
    this.flush(conn);
  }

  /** The sequencer refused the oldest message in flight (a disk full, a WAL failure). */
  rejected(conn: IngestSession, body: ErrorBody): void {
    const p = conn.pending[conn.head];
    if (p === undefined) return;
    p.text = this.errorText(p, body);
    this.flush(conn);
  }

  /** Messages of `conn` waiting for the sequencer. */
  inFlight(conn: IngestSession): number {
    return conn.pending.length - conn.head;
  }

  private reply(conn: IngestSession, p: Pending, body: ErrorBody): void {
    p.text = this.errorText(p, body);
    if (this.inFlight(conn) === 0) this.send(conn, p.text);
    else conn.pending.push(p);
  }

  private errorText(p: Pending, body: ErrorBody): string {
    return JSON.stringify(p.id === undefined || body.id !== undefined ? body : { ...body, id: p.id });
  }

  /** Sends every answered reply at the head of the queue. */
  private flush(conn: IngestSession): void {
    const q = conn.pending;
    while (conn.head < q.length && q[conn.head].text !== null) this.send(conn, q[conn.head++].text!);
    if (conn.head === q.length) {
      q.length = 0;
      conn.head = 0;
    } else if (conn.head > 1024 && conn.head * 2 > q.length) {
      q.splice(0, conn.head);
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
