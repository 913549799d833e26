/**
 * The ingest edge: turns one publisher message (JSON ticks, or binary size-prefixed Frames) into encoded
 * frames ready for the sequencer, or rejects the whole message. It runs in the worker that owns the
 * publisher's socket, so parsing and encoding never take time from the sequencer's thread; the sequencer
 * only stamps seq and ts_recv into the bytes (see `stampFrame`). ts_event 0 means "unset": the
 * sequencer replaces it with ts_recv.
 */
import { RequestError, TickringError } from "../../errors.js";
import { FrameEncoder } from "../../frame/codec.js";
import { FrameDecoder } from "./frame-decoder.js";
import { parseClientJson } from "../../frame/client-json.js";
import { type IngestId, type JsonMessage, parseJsonTick, readJsonMessage } from "./json-ticks.js";

export type { IngestId } from "./json-ticks.js";

/** Encoded frames of one accepted message. */
export interface DecodedIngest {
  /**
   * The frames, back to back: a view of the decoder's buffer, valid until its next `decode` (the ingest
   * endpoint copies them straight into its ingest ring, the only copy between the socket and the sequencer).
   */
  frames: Uint8Array;
  count: number;
  /** The envelope's id, to echo in the message's ack; undefined for bare JSON and binary messages. */
  id: IngestId | undefined;
}

/**
 * Every error {@link IngestDecoder.decode} throws: a TickringError (its code and message as the client
 * sees them) with the envelope's id when it was read before the error, to echo in the `error` reply.
 */
export class IngestError extends RequestError {
  override name = "IngestError";
  /** The envelope's `id`; undefined for the bare forms, binary messages and errors found before it. */
  declare readonly requestId: IngestId | undefined;
}

export class IngestDecoder {
  private readonly encoder = new FrameEncoder();
  private readonly binary = new FrameDecoder(this.encoder);
  private readonly pushFrame = (frame: Uint8Array): void => this.push(frame);
  private readonly message: JsonMessage = { id: undefined, ticks: undefined, tick: undefined };
  private scratch = new Uint8Array(64 * 1024);
  private used = 0;

  /**
   * Decodes a whole message; throws {@link IngestError} (nothing of the message is kept). Errors that are
   * not TickringErrors (bugs) pass through as they are.
   */
  decode(message: ArrayBuffer | Uint8Array, isBinary: boolean): DecodedIngest {
    this.used = 0;
    this.message.id = undefined;
    const bytes = message instanceof Uint8Array ? message : new Uint8Array(message);
    let count: number;
    try {
      count = isBinary ? this.binary.decode(bytes, this.pushFrame) : this.decodeJson(bytes);
    } catch (err) {
      if (err instanceof TickringError) throw new IngestError(err, this.message.id);
      throw err;
    } finally {
      // Let go of the parsed message: it may be large, and the next one may be long in coming.
      this.message.ticks = undefined;
      this.message.tick = undefined;
    }
    return { frames: this.scratch.subarray(0, this.used), count, id: this.message.id };
  }

  private decodeJson(bytes: Uint8Array): number {
    const m = this.message;
    readJsonMessage(parseClientJson(bytes, "message"), m);
    if (m.ticks === undefined) {
      this.push(this.encoder.encode(parseJsonTick(m.tick, -1), 0n, 0n));
      return 1;
    }
    for (let i = 0; i < m.ticks.length; i++)
      this.push(this.encoder.encode(parseJsonTick(m.ticks[i], i), 0n, 0n));
    return m.ticks.length;
  }

  private push(frame: Uint8Array): void {
    if (this.used + frame.length > this.scratch.length) {
      const grown = new Uint8Array(Math.max(this.scratch.length * 2, this.used + frame.length));
      grown.set(this.scratch.subarray(0, this.used));
      this.scratch = grown;
    }
    this.scratch.set(frame, this.used);
    this.used += frame.length;
  }
}
