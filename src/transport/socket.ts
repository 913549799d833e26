/**
 * What the feeds and the ingest endpoint need of one WebSocket connection. uWebSockets.js's `WebSocket`
 * satisfies it as it is; another transport plugs in by providing the same few calls. Nothing above the
 * transport touches a uWS type: the feeds are written against this, and tested against it in-process.
 */
export interface Socket {
  /** Sends one message (binary or text); returns uWS's status (1 sent, 0 buffered, 2 dropped). */
  send(data: Uint8Array | string, isBinary: boolean): number;
  /**
   * The first fragment of one message whose pieces lie apart in memory (no copy to join them). A message's
   * fragments are all sent within one synchronous call: the ws transport keeps the views until the last
   * one and sends them joined.
   */
  sendFirstFragment(data: Uint8Array, isBinary: boolean): unknown;
  sendFragment(data: Uint8Array): unknown;
  sendLastFragment(data: Uint8Array): unknown;
  /** Runs `fn` with the socket's writes gathered into one syscall. */
  cork(fn: () => void): unknown;
  /** Bytes accepted by send but not yet written to the kernel. */
  getBufferedAmount(): number;
  /** Closes with a close frame carrying `code` and `reason`. */
  end(code: number, reason: string): void;
  /** Cuts the connection at once, without a close frame. */
  close(): unknown;
}
