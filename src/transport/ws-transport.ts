/**
 * The `ws` transport: the {@link App} surface on node:http and `ws` (with `bufferutil` when it is installed),
 * for machines where no native uWebSockets.js loads (Node 22/24 on glibc < 2.38, say). Same routes, close
 * codes and HTTP endpoints; a route's own `upgrade` (the per-address limit) as {@link WsRoute} says;
 * per-connection behaviour as ws-socket.ts describes. What differs from uWS:
 *
 * - a message over `maxPayloadLength` closes with 1009 (uWS cuts it, 1006); a text message that is not
 *   UTF-8 closes with 1007 (uWS: 1006);
 * - an idle connection is pinged after half its `idleTimeout` and cut after all of it, checked every
 *   quarter of it (uWS checks every few seconds);
 * - several workers share a port through `listen({ reusePort: true })`, which node:net has only from Node
 *   22.12 and 23.1 ({@link WS_SHARES_PORT}); on older Node the daemon runs one socket worker (select.ts);
 * - out of file descriptors, a new connection is accepted and dropped at once (libuv does that rather than
 *   spin on the listening socket), where uWS leaves it waiting in the backlog until one is free.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { ListenOptions, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type ServerOptions, WebSocketServer } from "ws";
import type { App, HttpHandler, ListenToken, Transport, WsBehavior } from "./transport.js";
import { NodeHttpRequest, NodeHttpResponse, UpgradeHttpResponse } from "./ws-http.js";
import { ClosingWebSocket, WsSocket } from "./ws-socket.js";

/** How long a client gets to answer our close frame before its connection is cut. */
const CLOSE_TIMEOUT_MS = 1000;
/** Idle checks per `idleTimeout`: a ping after half of it, the cut after all of it. */
const SWEEPS_PER_IDLE_TIMEOUT = 4;

/** Whether node:net's `listen({ reusePort })` exists here: Node ≥ 22.12 on 22.x, ≥ 23.1 after. */
export const WS_SHARES_PORT = sharesPort(process.versions.node);

function sharesPort(version: string): boolean {
  const [major, minor] = version.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** The `ws` transport. */
export const wsTransport: Transport = {
  name: "ws",
  source: "ws",
  app: () => new WsApp(),
  localPort: (token) => ((token as Listening).server.address() as { port: number }).port,
  closeListen: (token) => {
    const { server, timers } = token as Listening;
    for (const t of timers) clearInterval(t);
    server.close();
  },
};

interface Listening {
  server: Server;
  timers: NodeJS.Timeout[];
}

interface HttpRoute {
  /** Lower case, or `any`. */
  method: string;
  pattern: string;
  handler: HttpHandler;
}

/** What the app does with a route, whatever its connections' state. */
interface Route {
  readonly idleTimeout: number;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  sweep(): void;
}

/**
 * One WebSocket route: its `ws` server (for the handshake and the limits) and its open connections.
 *
 * The route's own `upgrade` runs as `ws`'s `verifyClient`: after `ws` has checked the handshake (a bad one
 * is refused with 400 before the route sees it) and before it answers 101. From there `ws` completes the
 * handshake synchronously, so a connection the route admitted (`res.upgrade`) is always opened, and later
 * closed, in the same turn: whatever the route counts at the upgrade it can count down at the close.
 */
class WsRoute<C> implements Route {
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<WsSocket<C>>();
  /** The user data of the handshake being completed: set by `res.upgrade`, taken at once by the open. */
  private admitted: C | undefined;

  constructor(private readonly behavior: WsBehavior<C>) {
    const options: ServerOptions<typeof ClosingWebSocket> & { closeTimeout: number } = {
      WebSocket: ClosingWebSocket,
      noServer: true,
      maxPayload: behavior.maxPayloadLength,
      perMessageDeflate: false,
      clientTracking: false,
      closeTimeout: CLOSE_TIMEOUT_MS,
      verifyClient: (info, accept) => this.verify(info.req, accept),
    };
    this.wss = new WebSocketServer(options);
  }

  get idleTimeout(): number {
    return this.behavior.idleTimeout;
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (client) => {
      const ws = client as ClosingWebSocket; // the server's WebSocket option
      const userData = this.admitted ?? ({} as C);
      this.admitted = undefined;
      const conn = new WsSocket<C>(ws, socket, this.behavior, userData, (s) => this.sockets.delete(s));
      this.sockets.add(conn);
      this.behavior.open(conn);
    });
  }

  /** The route's `upgrade`, which either admits the handshake (`accept(true)`) or answers it itself. */
  private verify(req: IncomingMessage, accept: (ok: boolean) => void): void {
    const socket = req.socket as Socket;
    // `ws` drops a half-closed socket after this without opening it: drop it before the route counts it.
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    if (this.behavior.upgrade === undefined) {
      accept(true);
      return;
    }
    const res = new UpgradeHttpResponse(socket, (userData) => {
      this.admitted = userData as C;
      accept(true);
    });
    this.behavior.upgrade(res, new NodeHttpRequest(req), this);
  }

  /** Pings the connections idle for half the timeout and cuts those idle for all of it. */
  sweep(): void {
    for (const s of this.sockets) {
      s.idleSweeps++;
      if (s.idleSweeps >= SWEEPS_PER_IDLE_TIMEOUT) s.close();
      else if (s.idleSweeps >= SWEEPS_PER_IDLE_TIMEOUT / 2 && this.behavior.sendPingsAutomatically) s.ping();
    }
  }
}

class WsApp implements App {
  private readonly wsRoutes = new Map<string, Route>();
  private readonly httpRoutes: HttpRoute[] = [];

  ws<C>(pattern: string, behavior: WsBehavior<C>): this {
    this.wsRoutes.set(pattern, new WsRoute(behavior));
    return this;
  }

  get(pattern: string, handler: HttpHandler): this {
    this.httpRoutes.push({ method: "get", pattern, handler });
    return this;
  }

  post(pattern: string, handler: HttpHandler): this {
    this.httpRoutes.push({ method: "post", pattern, handler });
    return this;
  }

  any(pattern: string, handler: HttpHandler): this {
    this.httpRoutes.push({ method: "any", pattern, handler });
    return this;
  }

  listen(host: string, port: number, cb: (token: ListenToken | false) => void): this {
    const server = createServer((req, res) => this.request(req, res));
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
    const listenFailed = (): void => cb(false);
    server.once("error", listenFailed);
    // `reusePort` is not in @types/node 20; Node < 22.12 ignores it (WS_SHARES_PORT).
    server.listen({ host, port, reusePort: WS_SHARES_PORT } as ListenOptions, () => {
      server.off("error", listenFailed);
      // Once listening, an error is a failed accept (EMFILE when the process is out of descriptors): that
      // connection is lost and the server listens on, as uWS does. Unheard, it would end the thread.
      server.on("error", () => {});
      const timers = [...this.wsRoutes.values()].map((route) =>
        setInterval(() => route.sweep(), (route.idleTimeout * 1000) / SWEEPS_PER_IDLE_TIMEOUT).unref(),
      );
      cb({ server, timers } satisfies Listening);
    });
    return this;
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    const request = new NodeHttpRequest(req);
    const handler = this.match(request.getMethod(), request.getUrl());
    if (handler === undefined) res.writeHead(404, { connection: "close" }).end();
    else handler(new NodeHttpResponse(res), request);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const route = this.wsRoutes.get(new NodeHttpRequest(req).getUrl());
    if (route === undefined || req.headers.upgrade?.toLowerCase() !== "websocket") {
      new UpgradeHttpResponse(socket as Socket, () => {}).writeStatus("404 Not Found").end();
      return;
    }
    route.upgrade(req, socket, head);
  }

  /** The route for `method path`: an exact path over a `/*` prefix (the longer the better), a method over `any`. */
  private match(method: string, path: string): HttpHandler | undefined {
    let best: HttpRoute | undefined;
    let bestScore = -1;
    for (const r of this.httpRoutes) {
      if (r.method !== "any" && r.method !== method) continue;
      const exact = r.pattern === path;
      if (!exact && !(r.pattern.endsWith("/*") && path.startsWith(r.pattern.slice(0, -1)))) continue;
      const score = (exact ? 2 ** 20 : r.pattern.length * 2) + (r.method === "any" ? 0 : 1);
      if (score > bestScore) [best, bestScore] = [r, score];
    }
    return best?.handler;
  }
}
