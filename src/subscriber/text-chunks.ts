/**
 * Records of a text answer (`GET /v1/history`, `/v1/bars`, `tickring export`) gathered as UTF-8 bytes into
 * chunks of about {@link CHUNK_BYTES}: frames' JSON rendered straight in by the feeds' {@link JsonRenderer}
 * (the very text a `format:"json"` subscription gets), other text (CSV rows, separators) encoded in. A full
 * chunk is handed over whole and the next records go to a new buffer, so a transport may keep the chunk it
 * was given until it is written (node:http does; uWS copies).
 */
import { frameLength } from "../frame/codec.js";
import { type JsonRenderer, maxJsonBytes } from "../frame/json-render.js";

/** Bytes gathered before a chunk is handed over: large enough to amortize a write, small enough to bound memory. */
export const CHUNK_BYTES = 64 * 1024;

const encoder = new TextEncoder();

export class TextChunks {
  private buf = new Uint8Array(2 * CHUNK_BYTES);
  private end = 0;

  constructor(private readonly renderer: JsonRenderer) {}

  /** Bytes gathered. */
  get size(): number {
    return this.end;
  }

  /** True once a chunk's worth is gathered: time to {@link take} it. */
  get full(): boolean {
    return this.end >= CHUNK_BYTES;
  }

  /** Appends `s`; one-byte strings (separators, line breaks) are written without the encoder. */
  text(s: string): void {
    if (s.length === 1 && s.charCodeAt(0) < 0x80) {
      this.room(1);
      this.buf[this.end++] = s.charCodeAt(0);
      return;
    }
    this.room(s.length * 3);
    this.end += encoder.encodeInto(s, this.buf.subarray(this.end)).written;
  }

  /** Appends the JSON object of the frame at `bytes[off]`. */
  frameJson(bytes: Uint8Array, off: number): void {
    this.room(maxJsonBytes(frameLength(bytes, off)));
    this.end = this.renderer.render(bytes, off, this.buf, this.end);
  }

  /** Hands over what was gathered (possibly nothing); later records go to a new buffer. */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.end);
    this.buf = new Uint8Array(2 * CHUNK_BYTES);
    this.end = 0;
    return out;
  }

  private room(n: number): void {
    if (this.end + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(2 * this.buf.length, this.end + n));
    bigger.set(this.buf.subarray(0, this.end));
    this.buf = bigger;
  }
}

/**
 * Where a producer of records writes ({@link chunks}) and how it is paced: {@link pace} after each frame it
 * handled, kept or not. `true` goes on at once; `false` stops (the reader went away, or the answer was cut);
 * a promise is awaited first (a chunk is on its way to a reader that is behind, or the producer's turn of
 * the worker is over) and says the same. The same shape as a {@link FrameVisitor}'s answer, so a visitor
 * can return it.
 */
export interface RecordSink {
  readonly chunks: TextChunks;
  pace(): boolean | Promise<boolean>;
}
