/**
 * An in-process {@link HttpSink}: records the status, headers and body an HTTP data endpoint writes. With
 * `slow` set it acts as a client that does not read: every write reports backpressure until the test calls
 * {@link FakeHttpSink.drain}, so a test can check what the server buffers meanwhile; with `stalled` too it
 * never reads again ({@link FakeHttpSink.finished} does not drain it).
 */
import { JsonRenderer } from "../../src/frame/json-render.js";
import type { HistorySources } from "../../src/subscriber/history.js";
import { HttpHistory, type HttpHistoryOptions } from "../../src/subscriber/http-history.js";
import { LastValueCache } from "../../src/subscriber/last-value-cache.js";
import { ReplayScheduler } from "../../src/subscriber/replay-scheduler.js";
import type { HttpSink } from "../../src/transport/http-sink.js";

/** The HTTP data endpoints over `history` (newest seq `newest`), as a worker builds them; `o` overrides. */
export function httpHistory(
  history: HistorySources,
  newest: number,
  o: Partial<HttpHistoryOptions> = {},
): HttpHistory {
  return new HttpHistory({
    history,
    lastValues: new LastValueCache(),
    newestSeq: () => newest,
    scheduler: new ReplayScheduler(),
    renderer: new JsonRenderer(),
    limits: { symbols: 10_000, replaysPerWorker: 4 },
    sendLimit: { bytes: 1 << 20 },
    admit: () => undefined,
    release: () => {},
    stallMs: 60_000,
    log: () => {},
    ...o,
  });
}

/** GETs `path?query` from `http` with a new sink (`slow`: a client that reads only when the server waits). */
export async function answer(
  http: HttpHistory,
  path: string,
  query: string,
  slow = false,
  ip = "127.0.0.1",
): Promise<FakeHttpSink> {
  const res = new FakeHttpSink();
  res.slow = slow;
  http.serve(path, query, res, ip);
  await res.finished();
  return res;
}

export class FakeHttpSink implements HttpSink {
  status = "";
  readonly headers: Record<string, string> = {};
  body = "";
  ended = false;
  cut = false;
  slow = false;
  stalled = false;
  /** Characters written since the client last read (what a slow client leaves in the server's buffer). */
  unread = 0;
  maxUnread = 0;
  private writable: ((offset: number) => boolean) | undefined;
  private aborted: (() => void) | undefined;
  private done: (() => void)[] = [];

  writeStatus(status: string): this {
    this.status = status;
    return this;
  }
  writeHeader(key: string, value: string): this {
    this.headers[key] = value;
    return this;
  }
  write(chunk: string | Uint8Array): boolean {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    this.body += text;
    this.unread += text.length;
    this.maxUnread = Math.max(this.maxUnread, this.unread);
    if (!this.slow) this.unread = 0;
    return !this.slow;
  }
  onWritable(handler: (offset: number) => boolean): this {
    this.writable = handler;
    return this;
  }
  end(body: string | Uint8Array = ""): this {
    this.write(body);
    this.ended = true;
    this.finish();
    return this;
  }
  onAborted(handler: () => void): this {
    this.aborted = handler;
    return this;
  }
  cork(fn: () => void): this {
    fn();
    return this;
  }
  close(): this {
    this.cut = true;
    this.finish();
    return this;
  }

  /** The client reads everything buffered. */
  drain(): void {
    this.unread = 0;
    this.writable?.(0);
  }

  /** The client goes away. */
  abort(): void {
    this.aborted?.();
    this.finish();
  }

  /** Resolves once the answer ended (or was cut); a slow client reads whenever the server waits. */
  async finished(): Promise<void> {
    while (!this.ended && !this.cut) {
      await new Promise<void>((resolve) => {
        this.done.push(resolve);
        setTimeout(resolve, 5);
      });
      if (this.slow && !this.stalled) this.drain();
    }
  }

  private finish(): void {
    for (const d of this.done.splice(0)) d();
  }
}
