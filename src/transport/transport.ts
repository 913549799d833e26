/**
 * The transport seam: the few calls the socket edge (src/edge) makes of a WebSocket + HTTP server, so more
 * than one provider can serve it (nats.js's `Transport` habit). The surface is uWebSockets.js's own — a uWS
 * `TemplatedApp` satisfies {@link App} as it is, so the native path costs no wrapper — and the `ws`
 * provider (ws-transport.ts) implements the same calls on node:http and `ws`.
 *
 * Providers: `uws` (uws.ts: a native uWebSockets.js build) and `ws` (ws-transport.ts: pure JavaScript,
 * every Node version). select.ts picks one at start-up and says why.
 */
import type { HttpSink } from "./http-sink.js";
import type { Socket } from "./socket.js";

/** The providers. */
export type TransportName = "uws" | "ws";

/** Bytes a transport hands over: uWS gives an ArrayBuffer (valid only during the callback), `ws` a Buffer. */
export type Bytes = ArrayBuffer | Uint8Array;

/** A message as a route receives it: handlers read it before returning and keep no reference. */
export type Message = Bytes;

/** One WebSocket connection: the {@link Socket} the feeds use, plus the route's per-connection state. */
export interface WsConnection<C> extends Socket {
  getUserData(): C;
}

/** A WebSocket route: its limits and handlers (a subset of uWS's `WebSocketBehavior`). */
export interface WsBehavior<C> {
  /**
   * A client asks to open a WebSocket: either `res.upgrade(userData, …)` at once — `userData` becomes the
   * connection's `getUserData()`, and `open` and later `close` are called with it, always both — or an
   * HTTP answer through `res` refuses it. Without it every handshake is accepted with `{}` as user data.
   */
  upgrade?(res: UpgradeResponse, req: HttpRequest, context: UpgradeContext): void;
  /** Largest message; past it the connection is cut (uWS: 1006, `ws`: 1009) before more is buffered. */
  maxPayloadLength: number;
  /** Bytes buffered for the socket past which a send is dropped (send returns 2). */
  maxBackpressure: number;
  /** Seconds without traffic before the connection is closed. */
  idleTimeout: number;
  /** Ping an idle client, so a live one is never closed for idleness. */
  sendPingsAutomatically: boolean;
  open(ws: WsConnection<C>): void;
  message(ws: WsConnection<C>, message: Message, isBinary: boolean): void;
  /** Some buffered bytes were written: sending may resume. */
  drain(ws: WsConnection<C>): void;
  /** Called once, when the connection closes; also at once on `end()` and `close()`, as uWS does. */
  close(ws: WsConnection<C>): void;
}

/** An HTTP answer (uWS's calls): status and headers, then one `end`. */
export interface HttpAnswer {
  /** The client's IP address as text (`127.0.0.1`, an IPv6 address in hex groups). */
  getRemoteAddressAsText(): Bytes;
  /** `"200 OK"`, `"404 NOT_FOUND"`, or just the code. */
  writeStatus(status: string): HttpAnswer;
  writeHeader(key: string, value: string): HttpAnswer;
  /** Sends the body; `closeConnection` closes the connection after it (no keep-alive). */
  end(body?: string | Uint8Array, closeConnection?: boolean): HttpAnswer;
  /** Runs `fn` with the response's writes gathered into one. */
  cork(fn: () => void): HttpAnswer;
  /** Called if the client goes away before `end`; a response answered later must register it. */
  onAborted(fn: () => void): HttpAnswer;
}

/**
 * An HTTP route's response: an answer, or a body streamed in chunks as the client takes them
 * ({@link HttpSink}: `write`, `onWritable`, `close`).
 */
export interface HttpResponse extends HttpAnswer, HttpSink {
  writeStatus(status: string): HttpResponse;
  writeHeader(key: string, value: string): HttpResponse;
  end(body?: string | Uint8Array, closeConnection?: boolean): HttpResponse;
  cork(fn: () => void): HttpResponse;
  onAborted(fn: () => void): HttpResponse;
}

/** What a WebSocket route's `upgrade` answers with: an HTTP response (a refusal), or the upgrade. */
export interface UpgradeResponse extends HttpAnswer {
  /**
   * Completes the handshake, synchronously within `upgrade`: the key, protocol and extensions are the
   * request's `sec-websocket-*` headers, `context` the one `upgrade` was given.
   */
  upgrade<C>(
    userData: C,
    secWebSocketKey: string,
    secWebSocketProtocol: string,
    secWebSocketExtensions: string,
    context: UpgradeContext,
  ): void;
}

/** The route an `upgrade` belongs to, opaque: only its transport knows what is inside. */
export type UpgradeContext = object;

/** An HTTP request, readable only during its handler. */
export interface HttpRequest {
  /** The path, without the query string. */
  getUrl(): string;
  /** A header's value (name in lower case), `""` when absent. */
  getHeader(name: string): string;
  /** The query string (after `?`, undecoded), undefined when there is none. */
  getQuery(): string | undefined;
  /** A query parameter's value, decoded; undefined when absent. */
  getQuery(key: string): string | undefined;
  /** The method in lower case (`"get"`), as uWS gives it. */
  getMethod(): string;
}

export type HttpHandler = (res: HttpResponse, req: HttpRequest) => void;

/** What a listening app hands back; only its transport knows what is inside. */
export type ListenToken = object;

/**
 * One app: WebSocket routes, HTTP routes, one listening socket. Patterns are exact paths or end in `/*`
 * (that prefix and everything under it); a method's own route wins over `any`, an exact path over `/*`.
 */
export interface App {
  ws<C>(pattern: string, behavior: WsBehavior<C>): App;
  get(pattern: string, handler: HttpHandler): App;
  post(pattern: string, handler: HttpHandler): App;
  any(pattern: string, handler: HttpHandler): App;
  /** Listens on `host:port` (shared with the other workers' apps); `cb(false)` when it cannot. */
  listen(host: string, port: number, cb: (token: ListenToken | false) => void): App;
}

/** A provider. */
export interface Transport {
  readonly name: TransportName;
  /** The package that provides it (`@trufflesuite/uws-js-unofficial`, `ws`). */
  readonly source: string;
  app(): App;
  /** The port a listening app is bound to. */
  localPort(token: ListenToken): number;
  /** Stops listening; open connections stay until closed. */
  closeListen(token: ListenToken): void;
}

/** A Buffer over the same memory (no copy), valid as long as `bytes` is. */
export function bytesView(bytes: Bytes): Buffer {
  return bytes instanceof Uint8Array
    ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    : Buffer.from(bytes);
}

/** Bytes as text (UTF-8), without copying them first. */
export function bytesText(bytes: Bytes): string {
  return bytesView(bytes).toString("utf8");
}
