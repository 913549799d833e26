/**
 * One streamed HTTP answer over an {@link HttpSink}: a status line and headers, then the body in chunks of
 * about {@link CHUNK_BYTES} (chunked transfer encoding), each written only once the client took the previous
 * one. Memory per answer is a chunk or two whatever the size of the body: a client that reads slowly makes
 * the producer wait, never the server buffer; a client that stops reading for {@link HttpStreamOptions.stallMs}
 * is cut (whatever the transport does about idle sockets).
 *
 * The producer runs in turns on the worker's {@link ReplayScheduler}, beside its WebSocket replays: a turn
 * ends when a chunk waits for the client or after about a millisecond of work, so however many answers
 * stream at once, the worker's live fan-out and pings wait one scheduler slice at most.
 *
 * An error before the first byte of the body is an error answer (its code's HTTP status, the one error
 * body); after it, the connection is cut so the body cannot pass for complete.
 */
import { errorJson, httpStatusOf, incidentId, type IncidentLogger, TickringError } from "../errors.js";
import type { JsonRenderer } from "../frame/json-render.js";
import type { HttpSink } from "../transport/http-sink.js";
import type { ReplayScheduler, Steppable } from "./replay-scheduler.js";
import { type RecordSink, TextChunks } from "./text-chunks.js";

/** Work a producer does in one turn before it lets the other replays and answers of its worker have theirs, ms. */
const TURN_MS = 1;
/** Frames handled between looks at the clock. */
const FRAMES_PER_CLOCK = 256;

/** What an {@link HttpStream} runs on. */
export interface HttpStreamOptions {
  scheduler: ReplayScheduler;
  /** The worker's JSON renderer. */
  renderer: JsonRenderer;
  /** A client that takes nothing of a written chunk for this long is cut, ms. */
  stallMs: number;
  log: IncidentLogger;
}

export class HttpStream implements RecordSink, Steppable {
  /** Set once the client went away (or was cut): stop producing. */
  aborted = false;
  readonly chunks: TextChunks;
  queued = false;
  private started = false;
  private done = false;
  /** Ends the scheduler's current step (the producer paused), saying whether it could go on at once. */
  private stepEnd: ((more: boolean) => void) | undefined;
  /** Resumes the paused producer (false: stop). */
  private resume: ((go: boolean) => void) | undefined;
  private waitingForClient = false;
  private stall: NodeJS.Timeout | undefined;
  private turnStart = 0;
  private frames = 0;

  constructor(
    private readonly res: HttpSink,
    private readonly o: HttpStreamOptions,
  ) {
    this.chunks = new TextChunks(o.renderer);
    // uWS requires the abort handler before the request handler returns.
    res.onAborted(() => this.gone());
    res.onWritable(() => {
      if (this.waitingForClient) {
        this.waitingForClient = false;
        clearTimeout(this.stall);
        o.scheduler.wake(this);
      }
      return true;
    });
  }

  /** Waits for the producer's first turn; false when the client went away meanwhile. */
  begin(): Promise<boolean> {
    return this.pause(true);
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

  /** See {@link RecordSink.pace}: a full chunk is written, a long turn ends. */
  pace(): boolean | Promise<boolean> {
    if (this.aborted) return false;
    if (this.chunks.full) return this.flush();
    if (++this.frames % FRAMES_PER_CLOCK === 0 && performance.now() - this.turnStart > TURN_MS) {
      return this.pause(true);
    }
    return true;
  }

  /** Writes what was gathered; resolves once the client can take more and the producer's turn came. */
  flush(): boolean | Promise<boolean> {
    if (this.aborted) return false;
    if (this.chunks.size === 0) return true;
    const chunk = this.chunks.take();
    let ok = true;
    this.res.cork(() => {
      ok = this.res.write(chunk);
    });
    if (ok) return performance.now() - this.turnStart > TURN_MS ? this.pause(true) : true;
    this.waitingForClient = true;
    this.stall ??= setTimeout(() => this.stalled(), this.o.stallMs);
    this.stall.refresh();
    return this.pause(false);
  }

  /** Ends the body with what was gathered. */
  end(): void {
    if (!this.aborted && !this.done) {
      this.done = true;
      const body = this.chunks.take();
      this.res.cork(() => this.res.end(body));
    }
    this.finish();
  }

  /**
   * Answers `err`: an error answer when nothing was sent yet, otherwise the connection is cut (the body is
   * incomplete, and must not look complete).
   */
  fail(err: unknown): void {
    if (this.aborted || this.done) {
      this.finish();
      return;
    }
    this.done = true;
    if (this.started) {
      this.o.log(incidentId(), err);
      this.res.close();
      this.finish();
      return;
    }
    const e = err instanceof TickringError ? err : undefined;
    const status = httpStatusOf(e?.code ?? "INTERNAL");
    this.res.cork(() =>
      this.res
        .writeStatus(`${status} ${e?.code ?? "INTERNAL"}`)
        .writeHeader("content-type", "application/json")
        .end(errorJson(err, undefined, this.o.log), true),
    );
    this.finish();
  }

  /** The scheduler's turn: resumes the producer until it pauses again. */
  step(): Promise<boolean> {
    const resume = this.resume;
    if (resume === undefined) return Promise.resolve(false);
    this.resume = undefined;
    this.turnStart = performance.now();
    const ended = new Promise<boolean>((r) => (this.stepEnd = r));
    resume(!this.aborted);
    return ended;
  }

  /**
   * Ends the producer's turn and waits for the next: at once in the scheduler's round (`more`), or once the
   * client took the chunk (the writable handler wakes it).
   */
  private pause(more: boolean): Promise<boolean> {
    const next = new Promise<boolean>((r) => (this.resume = r));
    const end = this.stepEnd;
    this.stepEnd = undefined;
    if (end !== undefined) end(more);
    else if (more) this.o.scheduler.wake(this);
    return next;
  }

  /** The producer is done: its step ends, and nothing of it stays scheduled. */
  private finish(): void {
    clearTimeout(this.stall);
    const end = this.stepEnd;
    this.stepEnd = undefined;
    end?.(false);
  }

  /** The client took nothing for `stallMs`: cut it. */
  private stalled(): void {
    if (!this.waitingForClient || this.aborted) return;
    this.res.close();
    this.gone();
  }

  /** The client went away (or was cut): the producer, if paused, resumes to stop. */
  private gone(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.waitingForClient = false;
    clearTimeout(this.stall);
    const resume = this.resume;
    this.resume = undefined;
    resume?.(false);
  }
}
