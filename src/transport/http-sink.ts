/**
 * What the HTTP data endpoints (src/subscriber/http-history.ts) need of one HTTP response, so that they
 * stream the same way over any transport. uWebSockets.js's `HttpResponse` satisfies it as it is; another
 * transport (node:http) plugs in by providing the same few calls.
 *
 * The contract is uWS's: a response is written inside {@link HttpSink.cork} when written outside the request
 * handler; `write` without a content length sends chunked transfer encoding and returns false when the
 * client is not keeping up (the chunk is buffered all the same) — write nothing more until `onWritable`
 * fires; after `onAborted` fires the response may not be touched again.
 */
export interface HttpSink {
  /** Sets the status line, e.g. `"200 OK"`: first, before any header. */
  writeStatus(status: string): HttpSink;
  writeHeader(key: string, value: string): HttpSink;
  /** Writes one chunk of the body; false when the client's buffer is full: wait for {@link onWritable}. */
  write(chunk: string | Uint8Array): boolean;
  /** `handler` runs when the client can take more; it returns true (it wrote what it wanted, or nothing). */
  onWritable(handler: (offset: number) => boolean): HttpSink;
  /** Ends the response with a last piece of the body (closing the connection when asked). */
  end(body?: string | Uint8Array, closeConnection?: boolean): HttpSink;
  /** `handler` runs when the client went away; nothing may be written after. */
  onAborted(handler: () => void): HttpSink;
  /** Runs `fn` with the response's writes gathered into one syscall. */
  cork(fn: () => void): HttpSink;
  /**
   * Cuts the connection at once: a body that failed half-way must not look complete (a chunked body then
   * lacks its last chunk, and every HTTP client reports it as truncated).
   */
  close(): HttpSink;
}
