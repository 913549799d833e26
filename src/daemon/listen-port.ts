/**
 * The port check before the workers listen: a plain, exclusive bind (no SO_REUSEPORT) that fails when
 * anyone holds the port — the workers listen with SO_REUSEPORT, which would let a second daemon share our
 * port silently and take half the connections.
 */
import { createServer } from "node:net";
import { TickringError } from "../errors.js";

/** Binds `port` (0 = any free one) on `host` exclusively and returns it. */
export function probePort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) =>
      reject(new TickringError("BAD_OPTION", `--port ${port}: cannot bind ${host}:${port} (${err.code})`)),
    );
    probe.listen({ host, port, exclusive: true }, () => {
      const bound = (probe.address() as { port: number }).port;
      probe.close(() => resolve(bound));
    });
  });
}
