/**
 * uWS's HTTP request and response calls ({@link HttpRequest}, {@link HttpResponse}) over node:http's, for
 * the `ws` transport.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HttpRequest, HttpResponse } from "./transport.js";

export class NodeHttpRequest implements HttpRequest {
  private readonly path: string;

  constructor(private readonly req: IncomingMessage) {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    this.path = q < 0 ? url : url.slice(0, q);
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

export class NodeHttpResponse implements HttpResponse {
  constructor(private readonly res: ServerResponse) {}

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

  end(body = "", closeConnection = false): this {
    if (closeConnection) this.res.shouldKeepAlive = false;
    this.res.end(body);
    return this;
  }

  /** Node already writes the head and the body of `end` together. */
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
