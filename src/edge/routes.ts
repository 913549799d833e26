/**
 * The socket edge's routes on one app of the transport in force (uWS or `ws`, src/transport): `/v1/feed`
 * and `/v1/ingest` (WebSocket), `/healthz`, and the HTTP endpoints the main thread answers. Each route hands
 * its connections to a handler that knows nothing of the transport beyond the {@link Socket} interface.
 *
 * Message limits: uWS cuts a message over its own `maxPayloadLength` without a close frame (the client sees
 * 1006; `ws` closes with 1009 but no reason), so the transport is given twice our limit plus a margin and
 * our limit is enforced here, where a close frame with 1009 and a reason can be sent. A message over the
 * transport's ceiling is still cut before it is buffered: that keeps memory per connection bounded. A text
 * message that is not UTF-8 is cut before any handler runs (uWS: 1006, `ws`: 1007).
 */
import { errorJson, httpStatusOf, incidentId, TickringError } from "../errors.js";
import type { Socket } from "../transport/socket.js";
import {
  type App,
  bytesText,
  type HttpRequest,
  type HttpResponse,
  type Message,
  type Transport,
  type UpgradeContext,
  type UpgradeResponse,
} from "../transport/transport.js";
import type { HttpProxy } from "./http-proxy.js";

/** A route's connection handlers. `C` is the connection's own state (the transport's user data). */
export interface SocketHandlers<C> {
  open(conn: C, ws: Socket): void;
  message(conn: C, message: Message, isBinary: boolean): void;
  drain(conn: C): void;
  close(conn: C): void;
}

/** What the routes are built from. */
export interface RouteOptions<C> {
  /**
   * A handler threw: the connection it served is closed (1011) and the error logged under the incident id
   * the close reason names. An exception escaping a transport callback would end the thread, and a worker
   * thread that ends with uWS sockets open aborts the whole process.
   */
  onHandlerError(err: unknown, incident: string): void;
  feed: SocketHandlers<C>;
  ingest: SocketHandlers<C>;
  /**
   * A client at `ip` asks to open a WebSocket: an error refuses it before the upgrade (HTTP status of its
   * code, one error body); undefined admits it, and the connection counts until its `close`.
   */
  admit(ip: string): TickringError | undefined;
  /** `/healthz`: status and JSON body. */
  health(): { status: number; body: string };
  proxy: HttpProxy;
  /** Bearer token `/v1/admin/*` requires, if any. */
  adminToken: string | undefined;
  /** True when the daemon listens only on loopback: then admin needs no token (only local users reach it). */
  loopbackOnly: boolean;
  /** Largest message on `/v1/feed`. */
  feedMessageBytes: number;
  /** Largest message on `/v1/ingest`. */
  ingestMessageBytes: number;
  /** Per-subscriber buffer before the slow-consumer policy acts. */
  backpressureBytes: number;
  /** Largest run of frames sent as one message. */
  maxRunBytes: number;
}

/** The transport's own ceiling for a limit of ours: past it the connection is cut without buffering more. */
function transportCeiling(limit: number): number {
  return 2 * limit + 64 * 1024;
}

/** Builds the app with every route. */
export function createApp<C extends object>(transport: Transport, o: RouteOptions<C>): App {
  const app = transport.app();
  /** Runs `fn` for `ws`; if it throws, only that connection ends. */
  const guard = (ws: Socket, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      const incident = incidentId();
      o.onHandlerError(err, incident);
      try {
        ws.end(1011, `internal error (incident ${incident})`);
      } catch {
        // Already closed: nothing more to tell it.
      }
    }
  };
  /** Upgrades to a WebSocket whose user data starts with the client's address, unless `admit` refuses it. */
  const upgrade = (res: UpgradeResponse, req: HttpRequest, context: UpgradeContext): void => {
    const ip = bytesText(res.getRemoteAddressAsText());
    const refused = o.admit(ip);
    if (refused !== undefined) {
      sendError(res, refused);
      return;
    }
    res.upgrade(
      { ip },
      req.getHeader("sec-websocket-key"),
      req.getHeader("sec-websocket-protocol"),
      req.getHeader("sec-websocket-extensions"),
      context,
    );
  };
  app.ws<C>("/v1/feed", {
    upgrade,
    maxPayloadLength: transportCeiling(o.feedMessageBytes),
    // The transport silently drops a send above maxBackpressure; the slow-consumer policy acts at backpressureBytes, and
    // the margin lets the message that crossed the limit through, so nothing is lost without a gap report.
    maxBackpressure: o.backpressureBytes + 4 * o.maxRunBytes,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    open: (ws) => guard(ws, () => o.feed.open(ws.getUserData(), ws)),
    message: (ws, message, isBinary) =>
      guard(ws, () => {
        if (tooLarge(ws, message, o.feedMessageBytes)) return;
        if (isBinary) {
          ws.end(1003, "binary messages are not accepted on /v1/feed: send JSON text requests");
          return;
        }
        o.feed.message(ws.getUserData(), message, false);
      }),
    drain: (ws) => guard(ws, () => o.feed.drain(ws.getUserData())),
    close: (ws) => guard(ws, () => o.feed.close(ws.getUserData())),
  });
  app.ws<C>("/v1/ingest", {
    upgrade,
    maxPayloadLength: transportCeiling(o.ingestMessageBytes),
    maxBackpressure: 1024 * 1024,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    open: (ws) => guard(ws, () => o.ingest.open(ws.getUserData(), ws)),
    message: (ws, message, isBinary) =>
      guard(ws, () => {
        if (!tooLarge(ws, message, o.ingestMessageBytes))
          o.ingest.message(ws.getUserData(), message, isBinary);
      }),
    drain: (ws) => guard(ws, () => o.ingest.drain(ws.getUserData())),
    close: (ws) => guard(ws, () => o.ingest.close(ws.getUserData())),
  });
  app.get("/healthz", (res) => {
    const { status, body } = o.health();
    res
      .writeStatus(status === 200 ? "200 OK" : `${status} Service Unavailable`)
      .writeHeader("content-type", "application/json")
      .end(body, true);
  });
  app.get("/metrics", (res, req) => o.proxy.ask(res, "GET", req.getUrl()));
  app.get("/v1/stats", (res, req) => o.proxy.ask(res, "GET", req.getUrl()));
  app.post("/v1/admin/*", (res, req) => {
    const url = req.getUrl();
    const refused = adminRefusal(req, o);
    if (refused !== undefined) {
      sendError(res, refused);
      return;
    }
    o.proxy.ask(res, "POST", url);
  });
  app.any("/*", (res, req) => {
    const what = `${req.getMethod().toUpperCase()} ${req.getUrl().slice(0, 100)}`;
    sendError(res, new TickringError("NOT_FOUND", `no route ${what}`));
  });
  return app;
}

/** Content types a browser sends cross-origin without a preflight: a page elsewhere could POST them. */
const SIMPLE_CONTENT_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"];

/**
 * Why an admin request is refused, if it is: a wrong or missing token (required unless the daemon listens
 * only on loopback), or signs of a browser page making it (cross-site request forgery: an `Origin` or a
 * cross-site `Sec-Fetch-Site`, a content type a form can send). Operators' tools send none of those.
 */
function adminRefusal(req: HttpRequest, o: RouteOptions<object>): TickringError | undefined {
  const auth = req.getHeader("authorization");
  if (o.adminToken !== undefined) {
    if (auth !== `Bearer ${o.adminToken}`)
      return new TickringError("UNAUTHORIZED", "admin token required: Authorization: Bearer <token>");
  } else if (!o.loopbackOnly) {
    return new TickringError(
      "FORBIDDEN",
      "admin endpoints need --admin-token when the daemon listens beyond loopback",
    );
  }
  const site = req.getHeader("sec-fetch-site");
  if (req.getHeader("origin") !== "" || (site !== "" && site !== "none" && site !== "same-origin")) {
    return new TickringError("FORBIDDEN", "admin requests from web pages are refused");
  }
  const type = req.getHeader("content-type").split(";")[0].trim().toLowerCase();
  if (SIMPLE_CONTENT_TYPES.includes(type)) {
    return new TickringError("UNSUPPORTED", `admin requests take no ${type} body`);
  }
  return undefined;
}

/** Closes with 1009 when `message` is over `limit`; says whether it did. */
function tooLarge(ws: Socket, message: Message, limit: number): boolean {
  if (message.byteLength <= limit) return false;
  ws.end(1009, `message of ${message.byteLength} bytes: the limit is ${limit}`);
  return true;
}

/** An error answer with the one error body; the connection is closed (no idle keep-alive at shutdown). */
export function sendError(res: HttpResponse, err: TickringError): void {
  const status = httpStatusOf(err.code);
  res.cork(() =>
    res
      .writeStatus(`${status} ${err.code}`)
      .writeHeader("content-type", "application/json")
      .end(errorJson(err), true),
  );
}
