/**
 * uWS's HTTP request and response calls ({@link HttpRequest}, {@link HttpResponse}, {@link UpgradeResponse})
 * over node:http's, for the `ws` transport.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Bytes, HttpRequest, HttpResponse, UpgradeResponse } from "./transport.js";

export class NodeHttpRequest implements HttpRequest {
  private readonly path: string;
  private readonly query: string;
  private params: URLSearchParams | undefined;

  constructor(private readonly req: IncomingMessage) {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    this.path = q < 0 ? url : url.slice(0, q);
    this.query = q < 0 ? "" : url.slice(q + 1);
  }

  getQuery(key?: string): string | undefined {
    if (this.query === "") return undefined;
    if (key === undefined) return this.query;
    this.params ??= new URLSearchParams(this.query);
    return this.params.get(key) ?? undefined;
  }

  getUrl(): string {
    return this.path;
  }

  getHeader(name: string): string {
    const v = this.req.headers[name];
    return v === undefined ? "" : Array.isArray(v) ? v.join(", ") : v;
  }

  getMethod(): string {
    return (this.req.method ?? "GET").toLowerCase();
  }
}

/**
 * A node:http response behaving as uWS's: `write` returns false once Node's buffer is past its high-water
 * mark (the chunk is kept all the same), and `onWritable` runs when it drained.
 */
export class NodeHttpResponse implements HttpResponse {
  /** Body bytes written so far: the offset `onWritable` reports, as uWS's `getWriteOffset`. */
  private written = 0;

  constructor(private readonly res: ServerResponse) {}

  getRemoteAddressAsText(): Bytes {
    return Buffer.from(this.res.socket?.remoteAddress ?? "");
  }

  writeStatus(status: string): this {
    const space = status.indexOf(" ");
    this.res.statusCode = Number(space < 0 ? status : status.slice(0, space));
    if (space >= 0) this.res.statusMessage = status.slice(space + 1);
    return this;
  }

  writeHeader(key: string, value: string): this {
    this.res.setHeader(key, value);
    return this;
  }

  write(chunk: string | Uint8Array): boolean {
    this.written += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength;
    return this.res.write(chunk);
  }

  onWritable(handler: (offset: number) => boolean): this {
    this.res.on("drain", () => handler(this.written));
    return this;
  }

  end(body: string | Uint8Array = "", closeConnection = false): this {
    if (closeConnection) this.res.shouldKeepAlive = false;
    this.res.end(body);
    return this;
  }

  close(): this {
    this.res.destroy();
    return this;
  }

  /**
   * Runs `fn` as it is: Node already writes a response's head with its first body bytes. Not
   * `ServerResponse.cork`: on Node 22 a chunked write made under it never emits `drain` when it filled the
   * buffer (the data endpoints then waited for ever).
   */
  cork(fn: () => void): this {
    fn();
    return this;
  }

  onAborted(fn: () => void): this {
    this.res.once("close", () => {
      if (!this.res.writableFinished) fn();
    });
    return this;
  }
}

/**
 * The response to a WebSocket handshake, before it is upgraded: node:http hands an upgrade request over
 * with its raw socket and no response object, so a refusal is written here as HTTP/1.1 by hand (and the
 * connection closed, as uWS does); `upgrade` hands the user data to the route, which completes the handshake.
 */
export class UpgradeHttpResponse implements UpgradeResponse {
  private status = "200 OK";
  private headers = "";
  private answered = false;

  constructor(
    private readonly socket: Socket,
    /** Completes the handshake with the connection's user data. */
    private readonly accept: (userData: unknown) => void,
  ) {}

  getRemoteAddressAsText(): Bytes {
    return Buffer.from(this.socket.remoteAddress ?? "");
  }

  upgrade<C>(userData: C): void {
    if (this.answered) return;
    this.answered = true;
    this.accept(userData);
  }

  writeStatus(status: string): this {
    this.status = status;
    return this;
  }

  writeHeader(key: string, value: string): this {
    this.headers += `${key}: ${value}\r\n`;
    return this;
  }

  /** Sends the answer and closes the connection (an upgrade request's connection is not kept alive). */
  end(body: string | Uint8Array = ""): this {
    if (this.answered) return this;
    this.answered = true;
    const head = `HTTP/1.1 ${this.status}\r\n${this.headers}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`;
    this.socket.once("finish", () => this.socket.destroy());
    this.socket.cork();
    this.socket.write(head);
    this.socket.end(body);
    this.socket.uncork();
    return this;
  }

  cork(fn: () => void): this {
    fn();
    return this;
  }

  onAborted(fn: () => void): this {
    this.socket.once("close", () => {
      if (!this.answered) fn();
    });
    return this;
  }
}
