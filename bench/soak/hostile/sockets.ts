/**
 * Sockets of the hostile processes. Each hostile kind connects from its own loopback address (127.0.0.2,
 * .3, …: every 127/8 address reaches the daemon's 127.0.0.1), as an attacker with several addresses would:
 * the per-address connection limit then bounds each kind, not the normal clients on 127.0.0.1.
 */
import { connect as tcpConnect, type Socket } from "node:net";
import WebSocket from "ws";
import type { Tally } from "../tally.js";

/** A daemon that has not upgraded a connection by then counts as `socket:<timeout message>`. */
const HANDSHAKE_MS = 10_000;

/** Where a hostile process connects, and from which address. */
export interface Target {
  /** The daemon's port on 127.0.0.1. */
  port: number;
  /** The local address to connect from. */
  from: string;
}

/**
 * Opens a WebSocket on `path`, or resolves undefined and counts why not under `label`: `http:<status>`
 * (refused before the upgrade, e.g. 429 at the per-address limit) or `socket:<code>`.
 */
export function openSocket(
  target: Target,
  path: string,
  tally: Tally,
  label: string,
): Promise<WebSocket | undefined> {
  const ws = new WebSocket(`ws://127.0.0.1:${target.port}${path}`, {
    perMessageDeflate: false,
    localAddress: target.from,
    handshakeTimeout: HANDSHAKE_MS,
  });
  return new Promise((resolve) => {
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (req, res) => {
      tally.add(label, `http:${res.statusCode}`);
      req.destroy();
      resolve(undefined);
    });
    ws.once("error", (err: NodeJS.ErrnoException) => {
      // After the upgrade an error is followed by close, which is what the caller counts.
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.CLOSED) {
        tally.add(label, `socket:${err.code ?? err.message}`);
      }
      resolve(undefined);
    });
  });
}

/** A raw TCP connection to the daemon, for requests cut off mid-way. */
export function openTcp(target: Target): Socket {
  return tcpConnect({ host: "127.0.0.1", port: target.port, localAddress: target.from, noDelay: true });
}

/** The text of an HTTP request that upgrades to a WebSocket on `path`. */
export function upgradeRequest(path: string, port: number): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
  );
}

/** The socket under a `ws` WebSocket: pausing it stops reading, as a client that never reads. */
export function rawSocketOf(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

/** The `op` of a control message, and its `code` when it is an error. */
export function outcomeOf(text: string): string {
  try {
    const msg = JSON.parse(text) as { op?: unknown; code?: unknown };
    if (msg.op === "error") return `error:${String(msg.code)}`;
    return typeof msg.op === "string" ? msg.op : "frame";
  } catch {
    return "unparsable-reply";
  }
}
