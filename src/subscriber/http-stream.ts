/**
 * One streamed HTTP answer over an {@link HttpSink}: a status line and headers, then the body in chunks of
 * about {@link CHUNK_CHARS} (chunked transfer encoding), each written only once the client took the previous
 * one. Memory per answer is one chunk whatever the size of the body: a client that reads slowly makes the
 * producer wait ({@link HttpStream.add} returns a promise to await), never the server buffer.
 *
 * An error before the first byte of the body is an error answer (its code's HTTP status, the one error
 * body); after it, the connection is cut so the body cannot pass for complete.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { errorJson, httpStatusOf, incidentId, type IncidentLogger, TickringError } from "../errors.js";
import type { HttpSink } from "../transport/http-sink.js";

/** Characters gathered before a chunk is written: large enough to amortize the write, small enough to bound memory. */
export const CHUNK_CHARS = 64 * 1024;
/**
 * A producer that never waits for the client (a fast one) yields to the worker's event loop after this many
 * ms, so the ring, the feeds and other requests keep being served (as replays do).
 */
const SLICE_MS = 2;

export class HttpStream {
  /** Set once the client went away: stop producing. */
  aborted = false;
  private started = false;
  private done = false;
  private buf = "";
  private resume: (() => void) | undefined;
  private slice = performance.now();

  constructor(
    private readonly res: HttpSink,
    private readonly log: IncidentLogger,
  ) {
    // uWS requires the abort handler before the request handler returns.
    res.onAborted(() => {
      this.aborted = true;
      this.wake();
    });
    res.onWritable(() => {
      this.wake();
      return true;
    });
  }

  /** Sends the status line and headers (200), the body to follow in chunks. */
  start(contentType: string, headers: Record<string, string> = {}): void {
    if (this.aborted || this.started) return;
    this.started = true;
    this.res.cork(() => {
      // Closing after the answer leaves no idle keep-alive socket at shutdown. Said in a header: uWS's own
      // end(body, closeConnection) writes that header again after a chunked body, inside it.
      this.res
        .writeStatus("200 OK")
        .writeHeader("content-type", contentType)
        .writeHeader("connection", "close");
      for (const [k, v] of Object.entries(headers)) this.res.writeHeader(k, v);
    });
  }

  /**
   * Appends body text. Returns a promise when the producer must wait (a chunk was written and the client
   * has not taken it yet, or it is time to let the event loop run), else undefined: no promise per record.
   */
  add(text: string): Promise<void> | undefined {
    this.buf += text;
    if (this.buf.length >= CHUNK_CHARS) return this.flush();
    if (performance.now() - this.slice > SLICE_MS) return this.breathe();
    return undefined;
  }

  /** Writes what was gathered; resolves once the client can take more (or went away). */
  async flush(): Promise<void> {
    if (this.aborted || this.buf.length === 0) return;
    const chunk = this.buf;
    this.buf = "";
    let ok = true;
    this.res.cork(() => {
      ok = this.res.write(chunk);
    });
    if (!ok && !this.aborted) await new Promise<void>((resolve) => (this.resume = resolve));
    await this.breathe();
  }

  /** Ends the body with `tail`. */
  end(tail = ""): void {
    if (this.aborted || this.done) return;
    this.done = true;
    const body = this.buf + tail;
    this.buf = "";
    this.res.cork(() => this.res.end(body));
  }

  /**
   * Answers `err`: an error answer when nothing was sent yet, otherwise the connection is cut (the body is
   * incomplete, and must not look complete).
   */
  fail(err: unknown): void {
    if (this.aborted || this.done) return;
    this.done = true;
    if (this.started) {
      this.log(incidentId(), err);
      this.res.close();
      return;
    }
    const e = err instanceof TickringError ? err : undefined;
    const status = httpStatusOf(e?.code ?? "INTERNAL");
    this.res.cork(() =>
      this.res
        .writeStatus(`${status} ${e?.code ?? "INTERNAL"}`)
        .writeHeader("content-type", "application/json")
        .end(errorJson(err, undefined, this.log), true),
    );
  }

  private async breathe(): Promise<void> {
    await yieldToLoop();
    this.slice = performance.now();
  }

  private wake(): void {
    const r = this.resume;
    this.resume = undefined;
    r?.();
  }
}
