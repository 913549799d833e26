/**
 * Runs `tickring serve` in a child process and waits until it serves (its "tickring serving" log line
 * gives the port). Used by the tests, the benchmarks and anyone supervising a daemon from Node.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

const CLI = new URL("../cli/main.js", import.meta.url).pathname;

export interface DaemonProcess {
  port: number;
  child: ChildProcess;
  /** Parsed log lines so far. */
  logs: Record<string, unknown>[];
  /** What the daemon wrote on stderr so far. */
  stderr(): string;
  /** SIGTERM, then the exit code (null when a signal ended it). */
  stop(): Promise<number | null>;
  /** SIGKILL, resolved once it is gone. */
  kill(): Promise<void>;
}

/** How to run the child. */
export interface SpawnOptions {
  /** A lower limit of open files for the daemon (`ulimit -n`), to test running out of them. */
  maxOpenFiles?: number;
}

/**
 * Starts `tickring serve ...args` (pass `--port 0` for a free port); rejects if it exits first. The
 * daemon must log at info or below: its info-level "tickring serving" line is how we learn the port.
 */
export async function spawnDaemon(args: string[], options: SpawnOptions = {}): Promise<DaemonProcess> {
  const level = args[args.lastIndexOf("--log-level") + 1];
  if (args.includes("--log-level") && !["info", "debug", "trace"].includes(level)) {
    throw new Error(`spawnDaemon needs --log-level info or lower to see "tickring serving", got ${level}`);
  }
  const argv = [process.execPath, CLI, "serve", ...args];
  // `ulimit -n` applies to the shell, and exec hands it to the daemon: no wrapper stays in between.
  const child =
    options.maxOpenFiles === undefined
      ? spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] })
      : spawn("/bin/sh", ["-c", `ulimit -n ${options.maxOpenFiles} && exec "$@"`, "sh", ...argv], {
          stdio: ["ignore", "pipe", "pipe"],
        });
  const logs: Record<string, unknown>[] = [];
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { raw: line };
      }
      logs.push(entry);
      if (entry.msg === "tickring serving") resolve(entry.port as number);
    });
    exited.then((code) => reject(new Error(`tickring exited with ${code} before serving: ${stderr.trim()}`)));
  });
  return {
    port,
    child,
    logs,
    stderr: () => stderr,
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
    kill: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
}
