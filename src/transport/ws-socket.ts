/**
 * One WebSocket connection of the `ws` transport, behaving as a uWS `WebSocket` does for the calls the
 * feeds make ({@link Socket}):
 *
 * - **Copies on send.** uWS copies a message into its socket buffer before `send` returns, and the feeds rely
 *   on it: they send views over the shared ring (and over reused staging buffers) and check afterwards that
 *   the ring did not overwrite them. Node's socket keeps a reference to unwritten bytes instead, so each
 *   binary message is copied first (one `Buffer.allocUnsafe`, pooled below 4 KiB). This is the main cost of
 *   this transport beside uWS (bench/README.md, e2e: ws transport).
 * - **Fragments are joined.** The pieces of one message (`sendFirstFragment` … `sendLastFragment`) are
 *   copied into one buffer and sent as one message: the client receives the same message, for one copy
 *   and one frame instead of one of each per piece. The feeds send every piece of a message within one
 *   synchronous call (subscriber/send.ts), so the views are valid until the last piece.
 * - **Backpressure** is the `ws` socket's `bufferedAmount` (the kernel refused it, or a cork holds it); a
 *   send while more than `maxBackpressure` is buffered is dropped (returns 2), as in uWS.
 * - **Drain**: when a send leaves bytes buffered, an empty write is queued behind them; its callback (those
 *   bytes are written) calls the route's `drain`, and re-arms while bytes remain. Node's own `drain` event
 *   fires only past the stream's 16 KiB high-water mark, too late for small limits.
 * - **Close**: `end` sends a close frame and `close` cuts the connection; both call the route's `close` at
 *   once, as uWS does, and nothing more reaches the handlers. So does the client's close frame (or a
 *   message `ws` refuses: 1009, 1007) — not the end of the TCP connection after it, which is when `ws`
 *   reports it: by the time the client sees our answering close frame, the route has let go of whatever the
 *   connection held (a replay's file, its address's count), as with uWS. A client that does not answer our
 *   close frame is cut after the server's close timeout.
 */
import type { Duplex } from "node:stream";
import { WebSocket } from "ws";
import type { WsBehavior, WsConnection } from "./transport.js";

const OPEN = 1;
const EMPTY = Buffer.alloc(0);
const BINARY = { binary: true };
const TEXT = { binary: false };
/** Close reasons are at most 123 bytes (RFC 6455 §5.5: 125 for the payload, 2 for the code). */
const MAX_REASON_BYTES = 123;

/**
 * `ws`'s server-side WebSocket (the `WebSocket` option of its server), telling when it starts closing: `ws`
 * calls `close` on it itself when the client's close frame arrives or a message breaks the protocol.
 */
export class ClosingWebSocket extends WebSocket {
  /** Called after every `close`, whoever started it. */
  onClosing: (() => void) | undefined;

  override close(code?: number, data?: string | Buffer): void {
    super.close(code, data);
    this.onClosing?.();
  }
}

export class WsSocket<C> implements WsConnection<C> {
  /** Sweeps of the idle timer since the last message or pong (ws-transport.ts). */
  idleSweeps = 0;
  private closed = false;
  private corks = 0;
  private awaitingFlush = false;
  private readonly pieces: Uint8Array[] = [];
  private pieceBytes = 0;
  private piecesBinary = true;
  private readonly flushed = (): void => {
    this.awaitingFlush = false;
    if (this.closed) return;
    this.behavior.drain(this);
    this.armDrain();
  };

  constructor(
    private readonly ws: ClosingWebSocket,
    /** The TCP socket under `ws`, for cork and the flush marker. */
    private readonly raw: Duplex,
    private readonly behavior: WsBehavior<C>,
    private readonly userData: C,
    /** Called once the connection is closed, whoever closed it. */
    private readonly onClosed: (socket: WsSocket<C>) => void,
  ) {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      this.idleSweeps = 0;
      if (!this.closed) behavior.message(this, data, isBinary);
    });
    ws.on("pong", () => {
      this.idleSweeps = 0;
    });
    ws.on("ping", () => {
      this.idleSweeps = 0;
    });
    // ws reports protocol errors (oversize: 1009, invalid UTF-8: 1007) by closing with that code itself.
    ws.on("error", () => {});
    ws.onClosing = () => this.closedNow();
    ws.on("close", () => this.closedNow());
  }

  getUserData(): C {
    return this.userData;
  }

  send(data: Uint8Array | string, isBinary: boolean): number {
    if (this.closed || this.ws.readyState !== OPEN) return 2;
    if (this.ws.bufferedAmount > this.behavior.maxBackpressure) return 2;
    this.ws.send(typeof data === "string" ? data : copy(data), isBinary ? BINARY : TEXT);
    return this.sent();
  }

  sendFirstFragment(data: Uint8Array, isBinary: boolean): number {
    this.pieces.length = 0;
    this.pieceBytes = 0;
    this.piecesBinary = isBinary;
    return this.sendFragment(data);
  }

  sendFragment(data: Uint8Array): number {
    this.pieces.push(data);
    this.pieceBytes += data.byteLength;
    return 1;
  }

  sendLastFragment(data: Uint8Array): number {
    this.sendFragment(data);
    const joined = Buffer.allocUnsafe(this.pieceBytes);
    let at = 0;
    for (const piece of this.pieces) {
      joined.set(piece, at);
      at += piece.byteLength;
    }
    this.pieces.length = 0;
    if (this.closed || this.ws.readyState !== OPEN) return 2;
    if (this.ws.bufferedAmount > this.behavior.maxBackpressure) return 2;
    this.ws.send(joined, this.piecesBinary ? BINARY : TEXT);
    return this.sent();
  }

  cork(fn: () => void): this {
    this.corks++;
    this.raw.cork();
    try {
      fn();
    } finally {
      this.raw.uncork();
      this.corks--;
    }
    if (this.corks === 0) this.armDrain();
    return this;
  }

  getBufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  end(code: number, reason: string): void {
    if (this.closed) return;
    this.ws.close(code, shortReason(reason));
    this.closedNow();
  }

  close(): void {
    if (this.closed) return;
    this.ws.terminate();
    this.closedNow();
  }

  /** Pings the client (ws-transport.ts's idle sweep); its pong counts as traffic. */
  ping(): void {
    if (!this.closed && this.ws.readyState === OPEN) this.ws.ping();
  }

  /** 1 when the kernel took the message, 0 when some of it waits (a drain will follow). */
  private sent(): number {
    if (this.corks > 0) return 1;
    if (this.ws.bufferedAmount === 0) return 1;
    this.armDrain();
    return 0;
  }

  private armDrain(): void {
    if (this.awaitingFlush || this.closed || this.ws.bufferedAmount === 0) return;
    this.awaitingFlush = true;
    this.raw.write(EMPTY, this.flushed);
  }

  private closedNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.pieces.length = 0;
    this.onClosed(this);
    this.behavior.close(this);
  }
}

/** The message's own copy (see the module doc); `allocUnsafe` takes small ones from Node's pool. */
function copy(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(data.byteLength);
  out.set(data);
  return out;
}

function shortReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  let cut = reason.slice(0, MAX_REASON_BYTES);
  while (Buffer.byteLength(cut) > MAX_REASON_BYTES) cut = cut.slice(0, -1);
  return cut;
}
