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
 *
 * WebSocket upgrades are admitted or refused synchronously, in the upgrade handler: this uWebSockets.js
 * (20.30) may cut a socket upgraded later inside `res.cork` right after its `open` (1006: the cork's
 * connection-close check reads the HTTP state from memory the WebSocket now owns, uWebSockets#1929), and
 * outside a cork it warns on every upgrade; the `ws` transport, too, takes the upgrade's answer only
 * synchronously. So what needs a token's signature, which jose checks
 * asynchronously, happens after the upgrade (src/edge/auth-gate.ts). An HTTP request that needs a permission
 * (`authorize`) is answered once it is known: its headers copied out first (a transport's request lives only
 * during the handler), the answer corked, and none when the client left meanwhile (`onAborted`).
 */
import { errorJson, httpStatusOf, incidentId, TickringError } from "../errors.js";
import type { FeedAccess } from "../subscriber/feed-access.js";
import type { HttpSink } from "../transport/http-sink.js";
import type { Socket } from "../transport/socket.js";
import {
  type App,
  bytesText,
  type HttpAnswer,
  type HttpRequest,
  type HttpResponse,
  type Message,
  type Transport,
  type UpgradeContext,
  type UpgradeResponse,
} from "../transport/transport.js";
import type { HttpProxy } from "./http-proxy.js";
import type { StaticAnswer, StaticFiles } from "./static-files.js";

/** A route's connection handlers. `C` is the connection's own state (the transport's user data). */
export interface SocketHandlers<C> {
  open(conn: C, ws: Socket): void;
  message(conn: C, message: Message, isBinary: boolean): void;
  drain(conn: C): void;
  close(conn: C): void;
}

/** What a WebSocket upgrade request presents, copied out of it; it becomes the connection's user data. */
export interface UpgradeRequest {
  /** The client's address. */
  ip: string;
  route: "feed" | "ingest";
  /** The token of `Authorization: Bearer <token>` or `?token=<token>`, if any. */
  token: string | undefined;
  /** The `Origin` header (browsers send it), or "". */
  origin: string;
}

/** An HTTP request that needs a permission (`/metrics`, `/v1/stats`, `/v1/admin/*`). */
export interface HttpAsk {
  ip: string;
  token: string | undefined;
  need: "metrics" | "admin";
  /** Set by `authorize` once it knows the token's subject. */
  sub?: string;
}

/** An HTTP request's admission: a refusal, or undefined to answer it; maybe later. */
export type Verdict = TickringError | undefined | Promise<TickringError | undefined>;

/** An HTTP data request (`/v1/history`, …): what it presents. */
export interface DataAsk {
  ip: string;
  token: string | undefined;
}

/** A data request's admission: what its token may read (undefined: auth is off), or a refusal; maybe later. */
export type DataVerdict =
  FeedAccess | TickringError | undefined | Promise<FeedAccess | TickringError | undefined>;

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
   * A client asks to open a WebSocket: an error refuses it before the upgrade (HTTP status of its code, one
   * error body); undefined admits it, and `req` becomes the connection's user data: what it counts (its
   * address) counts until its `close`.
   */
  admit(req: UpgradeRequest): TickringError | undefined;
  /** May `ask` be answered? Undefined = yes (auth off, or its token has the permission). */
  authorize(ask: HttpAsk): Verdict;
  /** What a data request may read: its token's feed entitlements (src/edge/auth-gate.ts). */
  dataAccess(ask: DataAsk): DataVerdict;
  /** An admin request was answered (`status`): for the audit log. */
  adminDone(ask: HttpAsk, action: string, status: number, code: string | undefined): void;
  /** `/healthz`: status and JSON body. */
  health(): { status: number; body: string };
  proxy: HttpProxy;
  /** Bearer token `/v1/admin/*` requires, if any (auth off only: with auth on, the token's `admin` decides). */
  adminToken: string | undefined;
  /** Whether tokens are verified (--auth-secret-file, --auth-jwks). */
  auth: boolean;
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
  /** The dashboard's page and files (`GET /dashboard`, `/dashboard/*`); public, they hold no data. */
  dashboard: StaticFiles;
  /**
   * The HTTP data endpoints (`/v1/history`, `/v1/bars`, …): GET on each of `paths`, from a client at `ip`,
   * entitled to `access` (undefined: auth is off).
   */
  data: {
    readonly paths: readonly string[];
    serve(path: string, query: string, res: HttpSink, ip: string, access: FeedAccess | undefined): void;
  };
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
  /** Upgrades to a WebSocket whose user data is the {@link UpgradeRequest}, unless `admit` refuses it. */
  const upgrade =
    (route: UpgradeRequest["route"]) =>
    (res: UpgradeResponse, req: HttpRequest, context: UpgradeContext): void => {
      const ask: UpgradeRequest = {
        ip: remoteAddress(res),
        route,
        token: tokenOf(req),
        origin: req.getHeader("origin"),
      };
      const refused = o.admit(ask);
      if (refused !== undefined) {
        sendError(res, refused);
        return;
      }
      res.upgrade(
        ask,
        req.getHeader("sec-websocket-key"),
        req.getHeader("sec-websocket-protocol"),
        req.getHeader("sec-websocket-extensions"),
        context,
      );
    };
  /** The same for an HTTP request that needs a permission: `go` answers it once authorized. */
  const authorized = (
    res: HttpResponse,
    req: HttpRequest,
    need: HttpAsk["need"],
    go: (ask: HttpAsk) => void,
  ) => {
    const ask: HttpAsk = {
      ip: remoteAddress(res),
      token: tokenOf(req),
      need,
    };
    answer(res, o.authorize(ask), () => go(ask));
  };
  app.ws<C>("/v1/feed", {
    upgrade: upgrade("feed"),
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
    upgrade: upgrade("ingest"),
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
  for (const path of ["/metrics", "/v1/stats"]) {
    app.get(path, (res, req) => authorized(res, req, "metrics", () => o.proxy.ask(res, "GET", path)));
  }
  app.post("/v1/admin/*", (res, req) => {
    const url = req.getUrl();
    const refused = adminRefusal(req, o);
    if (refused !== undefined) {
      o.adminDone(
        { ip: remoteAddress(res), token: undefined, need: "admin" },
        url,
        refused.status,
        refused.code,
      );
      sendError(res, refused);
      return;
    }
    authorized(res, req, "admin", (ask) =>
      o.proxy.ask(res, "POST", url, "", (status, code) => o.adminDone(ask, url, status, code)),
    );
  });
  for (const path of ["/dashboard", "/dashboard/*"]) {
    app.get(path, (res, req) =>
      sendStatic(
        res,
        o.dashboard.answer(req.getUrl(), req.getHeader("accept-encoding"), req.getHeader("if-none-match")),
      ),
    );
  }
  for (const path of o.data.paths) {
    app.get(path, (res, req) => {
      const ask: DataAsk = { ip: remoteAddress(res), token: tokenOf(req) };
      const query = req.getQuery() ?? "";
      answer(res, o.dataAccess(ask), (access) => o.data.serve(path, query, res, ask.ip, access));
    });
  }
  app.any("/*", (res, req) => {
    const what = `${req.getMethod().toUpperCase()} ${req.getUrl().slice(0, 100)}`;
    sendError(res, new TickringError("NOT_FOUND", `no route ${what}`));
  });
  return app;
}

/** Content types a browser sends cross-origin without a preflight: a page elsewhere could POST them. */
const SIMPLE_CONTENT_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"];

/**
 * Runs `go` (corked) with what `verdict` admits the request with, or answers its refusal; nothing when the
 * client left before a late verdict. uWS requires an abort handler on a response not answered at once (the
 * `ws` transport takes one too).
 */
function answer<T>(
  res: HttpAnswer,
  verdict: T | TickringError | Promise<T | TickringError>,
  go: (admitted: T) => void,
): void {
  if (!(verdict instanceof Promise)) {
    if (verdict instanceof TickringError) sendError(res, verdict);
    else go(verdict);
    return;
  }
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  verdict
    .catch((err: unknown) => new TickringError("INTERNAL", "admission failed", { cause: err }))
    .then((admitted) => {
      if (aborted) return;
      if (admitted instanceof TickringError) sendError(res, admitted);
      else res.cork(() => go(admitted));
    });
}

/** The bearer token of `Authorization: Bearer <token>`, else of `?token=<token>`, else undefined. */
function tokenOf(req: HttpRequest): string | undefined {
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(req.getHeader("authorization"));
  if (m !== null) return m[1];
  const query = req.getQuery("token");
  return query === "" || query === undefined ? undefined : query;
}

/**
 * Why an admin request is refused, if it is: with auth off, a wrong or missing `--admin-token` (required
 * unless the daemon listens only on loopback; with auth on, the token's `admin` claim decides), or signs of a
 * browser page making it (cross-site request forgery: an `Origin` or a cross-site `Sec-Fetch-Site`, a content
 * type a form can send). Operators' tools send none of those.
 */
function adminRefusal(req: HttpRequest, o: RouteOptions<object>): TickringError | undefined {
  const auth = req.getHeader("authorization");
  if (o.auth) {
    // The token is checked by `authorize`.
  } else if (o.adminToken !== undefined) {
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

/** The client's address, as `--max-connections-per-ip` counts it. */
function remoteAddress(res: HttpAnswer): string {
  return bytesText(res.getRemoteAddressAsText());
}

/** Closes with 1009 when `message` is over `limit`; says whether it did. */
function tooLarge(ws: Socket, message: Message, limit: number): boolean {
  if (message.byteLength <= limit) return false;
  ws.end(1009, `message of ${message.byteLength} bytes: the limit is ${limit}`);
  return true;
}

/** A static file's answer, or its error; the connection is closed, as every HTTP answer's is. */
function sendStatic(res: HttpResponse, answer: StaticAnswer | TickringError): void {
  if (answer instanceof TickringError) return sendError(res, answer);
  res.cork(() => {
    res.writeStatus(answer.status);
    for (const [name, value] of answer.headers) res.writeHeader(name, value);
    res.end(answer.body, true);
  });
}

/** An error answer with the one error body; the connection is closed (no idle keep-alive at shutdown). */
export function sendError(res: HttpAnswer, err: TickringError): void {
  const status = httpStatusOf(err.code);
  res.cork(() => {
    res.writeStatus(`${status} ${err.code}`).writeHeader("content-type", "application/json");
    if (err.code === "UNAUTHORIZED") res.writeHeader("www-authenticate", 'Bearer realm="tickring"');
    res.end(errorJson(err), true);
  });
}
