/**
 * Checks that the daemon can listen on `--host`/`--port` before its workers try (uWebSockets.js reports a
 * failed listen with no reason), and blames the option that is wrong: the host when its name does not
 * resolve or the address is not on this machine, the port when it is taken or not allowed.
 */
import { createServer } from "node:net";
import { OptionError, TickringError } from "../errors.js";

/**
 * Binds `host:port` exclusively — without SO_REUSEPORT, so it fails when anyone holds the port, even
 * another tickring whose workers share it — then releases it. Port 0 picks a free port.
 * @returns the bound port (the one picked when `port` is 0).
 * @throws {@link OptionError} naming `--host` or `--port` and the value (see {@link listenError}).
 */
export function probePort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => reject(listenError(err, host, port)));
    probe.listen({ host, port, exclusive: true }, () => {
      const bound = (probe.address() as { port: number }).port;
      probe.close(() => resolve(bound));
    });
  });
}

/**
 * The error to report for a failed listen on `host:port`: an {@link OptionError} on `--host` for a name
 * that does not resolve (`ENOTFOUND`, `EAI_*`) or an address that is not this machine's
 * (`EADDRNOTAVAIL`), on `--port` for a port in use (`EADDRINUSE`) or not allowed (`EACCES`); anything
 * else is a failure (`UNAVAILABLE`, exit status 1), with `err` as its cause.
 */
export function listenError(err: NodeJS.ErrnoException, host: string, port: number): TickringError {
  const code = err.code ?? "unknown error";
  const why = HOST_ERRORS[code] ?? (code.startsWith("EAI_") ? "cannot be resolved" : undefined);
  if (why !== undefined) return new OptionError("--host", `${host} ${why} (${code})`, { cause: err });
  const portWhy = PORT_ERRORS[code];
  if (portWhy !== undefined) return new OptionError("--port", `${port} ${portWhy} (${code})`, { cause: err });
  return new TickringError("UNAVAILABLE", `cannot listen on ${host}:${port} (${code})`, { cause: err });
}

const HOST_ERRORS: Record<string, string> = {
  ENOTFOUND: "cannot be resolved",
  EADDRNOTAVAIL: "is not an address of this machine",
};

const PORT_ERRORS: Record<string, string> = {
  EADDRINUSE: "is in use",
  EACCES: "is not allowed for this user (below 1024 needs privileges)",
};
