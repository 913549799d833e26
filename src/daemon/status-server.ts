/**
 * Answers on the daemon's port while startup recovery runs, before the workers exist: `GET /healthz` →
 * 503 `{"status":"starting","progress":<0–100>}` (the workers answer the same shape once they listen),
 * anything else → 503 `NOT_READY`. A supervisor polling /healthz then sees "starting", not a refused
 * connection. Closed just before the workers bind the port; the gap between the two is a few ms.
 */
import { createServer, type Server } from "node:http";
import { errorJson, TickringError } from "../errors.js";
import { listenError } from "./listen-port.js";

/** The recovery-time listener; {@link RecoveryStatusServer.close} frees the port. */
export class RecoveryStatusServer {
  private constructor(
    private readonly server: Server,
    /** The bound port (the real one when 0 was asked). */
    readonly port: number,
  ) {}

  /** Binds `host:port` exclusively (no SO_REUSEPORT: fails if anyone holds it) and starts answering. */
  static listen(host: string, port: number, progress: () => number): Promise<RecoveryStatusServer> {
    const server = createServer((req, res) => {
      const health = req.method === "GET" && req.url === "/healthz";
      const body = health
        ? `{"status":"starting","progress":${progress()}}`
        : errorJson(new TickringError("NOT_READY", "tickring is recovering its data directory"));
      res.writeHead(503, { "content-type": "application/json", connection: "close" }).end(body);
    });
    return new Promise((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => reject(listenError(err, host, port)));
      server.listen({ host, port, exclusive: true }, () => {
        resolve(new RecoveryStatusServer(server, (server.address() as { port: number }).port));
      });
    });
  }

  /** Stops answering and releases the port (open connections are cut). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
