/**
 * What the start-up log tells a person: which transport serves and why (and what did not load), and, on
 * the "tickring serving" line, where to connect and what is on.
 */
import type { ServeOptions } from "../config/options.js";
import type { Logger } from "../logger.js";
import type { TransportSelection } from "../transport/select.js";

/** Logs the transport chosen; a fallback to `ws` or fewer workers than asked for is a warning. */
export function logTransport(log: Logger, t: TransportSelection): void {
  if (t.name === "ws" && t.unavailable.length > 0) {
    log.warn(
      { transport: t.name, reason: t.reason, unavailable: t.unavailable },
      "no native uWebSockets.js loaded: serving on the ws transport (slower: see bench/README.md, e2e)",
    );
  } else {
    const skipped = t.unavailable.length > 0 ? { unavailable: t.unavailable } : {};
    log.info({ reason: t.reason, ...skipped }, `transport: ${t.name} (${t.source})`);
  }
  if (t.workersNote !== undefined) log.warn({ workers: t.workers }, t.workersNote);
}

/** The "tickring serving" line's fields: the URLs to connect to, then what is on. */
export function readyFields(
  o: ServeOptions,
  port: number,
  t: TransportSelection,
  retention: string,
  auth: string,
): Record<string, unknown> {
  const host = connectHost(o.host);
  return {
    feed: `ws://${host}:${port}/v1/feed`,
    ingest: `ws://${host}:${port}/v1/ingest`,
    health: `http://${host}:${port}/healthz`,
    host: o.host,
    port,
    workers: o.workers,
    transport: `${t.name} (${t.source})`,
    demo: o.demo === false ? "off" : `${o.demo.symbols} symbols, ${o.demo.rate} ticks/s`,
    fsync: o.fsync,
    retention,
    auth,
    data: o.data,
  };
}

/** The address a client on this machine dials for a listen address (a wildcard is not one). */
function connectHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "[::1]";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
