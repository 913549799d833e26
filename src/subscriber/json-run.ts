/**
 * The JSON of one run of frames, rendered once per worker and shared by every JSON subscriber: a buffer
 * laid out so that a run is one JSON array (`[` first, the first record without a comma, the others after
 * one, `]` last: see sendJsonPieces), and a filtered subscriber's frames are pieces of it, like binary
 * frames are pieces of the ring. Reused for every run: nothing is allocated per frame once it has grown.
 */
import { frameLength } from "../frame/codec.js";
import { type JsonRenderer, maxJsonBytes } from "../frame/json-render.js";

const OPEN = 0x5b;
const CLOSE = 0x5d;
const COMMA = 0x2c;

export class JsonRun {
  /** The run's text: `buf[0]` is `[`; records from 1 to {@link end}; `buf[end]` is `]` once closed. */
  buf = new Uint8Array(256 * 1024);
  /** Where the next record goes (1 when the run is empty). */
  end = 1;

  constructor(private readonly renderer: JsonRenderer) {}

  /** Starts a new run. */
  reset(): void {
    this.buf[0] = OPEN;
    this.end = 1;
  }

  /**
   * Renders the frame at `bytes[off]` as the run's next record and returns where the record starts (its
   * comma included); it ends at {@link end}.
   */
  add(bytes: Uint8Array, off: number): number {
    const start = this.end;
    this.ensure(maxJsonBytes(frameLength(bytes, off)) + 2);
    let p = start;
    if (start > 1) this.buf[p++] = COMMA;
    this.end = this.renderer.render(bytes, off, this.buf, p);
    return start;
  }

  /** Ends the run with `]` (after {@link end}, outside every record). */
  close(): void {
    this.buf[this.end] = CLOSE;
  }

  /** Grows the buffer (keeping what it holds, so pieces of it stay valid) to have `room` free. */
  private ensure(room: number): void {
    if (this.end + room <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (this.end + room > size) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.buf.subarray(0, this.end));
    this.buf = bigger;
  }
}
