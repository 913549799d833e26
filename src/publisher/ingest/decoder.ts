/**
 * The ingest edge: turns one publisher message (JSON ticks, or binary size-prefixed Frames) into encoded
 * frames ready for the sequencer, or rejects the whole message. It runs in the worker that owns the
 * publisher's socket, so parsing and encoding never take time from the sequencer's thread; the sequencer
 * only stamps seq and ts_recv into the bytes (see `stampFrame`). ts_event 0 means "unset": the
 * sequencer replaces it with ts_recv.
 */
import { TickringError } from "../../errors.js";
import { FrameEncoder } from "../../frame/codec.js";
import { FrameDecoder, MAX_TICKS_PER_MESSAGE } from "./frame-decoder.js";
import { parseTick } from "./json-ticks.js";

/** Encoded frames of one accepted message, in a transferable buffer. */
export interface DecodedIngest {
  frames: ArrayBuffer;
  count: number;
}

export class IngestDecoder {
  private readonly encoder = new FrameEncoder();
  private readonly binary = new FrameDecoder(this.encoder);
  private readonly pushFrame = (frame: Uint8Array): void => this.push(frame);
  private scratch = new Uint8Array(64 * 1024);
  private used = 0;

  /** Decodes a whole message; throws {@link TickringError} (nothing of the message is kept). */
  decode(message: ArrayBuffer | Uint8Array, isBinary: boolean): DecodedIngest {
    this.used = 0;
    const bytes = message instanceof Uint8Array ? message : new Uint8Array(message);
    const count = isBinary ? this.binary.decode(bytes, this.pushFrame) : this.decodeJson(bytes);
    return { frames: this.scratch.slice(0, this.used).buffer, count };
  }

  private decodeJson(bytes: Uint8Array): number {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
    } catch (err) {
      throw new TickringError("BAD_JSON", `message is not JSON: ${(err as Error).message}`);
    }
    const list = Array.isArray(parsed) ? parsed : [parsed];
    if (list.length === 0) throw new TickringError("BAD_TICK", "empty array: send at least one tick");
    if (list.length > MAX_TICKS_PER_MESSAGE) {
      throw new TickringError(
        "BAD_TICK",
        `${list.length} ticks in one message; at most ${MAX_TICKS_PER_MESSAGE}`,
      );
    }
    for (let i = 0; i < list.length; i++) {
      const where = Array.isArray(parsed) ? `ticks[${i}]` : "tick";
      this.push(this.encoder.encode(parseTick(list[i], where), 0n, 0n));
    }
    return list.length;
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
