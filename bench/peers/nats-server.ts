/**
 * Starts a private `nats-server` for a benchmark or a test: loopback only, free ports for clients and the
 * WebSocket listener, JetStream with its file store in a fresh temp dir; stopped by PID and its dir
 * removed. The settings it ran with are returned so a report can print them. With `cluster`, the server
 * is one node of a JetStream cluster (bench/cluster starts the others).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface NatsServer {
  pid: number;
  /** nats://127.0.0.1:port (clients, TCP). */
  url: string;
  /** ws://127.0.0.1:port (WebSocket listener). */
  wsUrl: string;
  storeDir: string;
  /** The configuration file's text, as the server read it. */
  config: string;
  stop(): Promise<void>;
}

/** `nats-server --version` (e.g. "v2.9.10"), or null when it is not on the PATH. */
export function natsServerVersion(): string | null {
  try {
    const out = execFileSync("nats-server", ["--version"], { encoding: "utf8" }).trim();
    return out.replace(/^nats-server:\s*/, "");
  } catch {
    return null;
  }
}

/** A port free on loopback now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One node of a JetStream cluster on loopback: its name, its route port, and the other nodes' route ports. */
export interface ClusterNode {
  cluster: string;
  server: string;
  routePort: number;
  routes: number[];
}

/**
 * Starts a server; tries again on fresh ports (three times) when a port picked free was taken before the
 * server bound it — other processes of a test run pick free ports too (seen on a fresh clone's CI run).
 */
export async function startNats(node?: ClusterNode): Promise<NatsServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(node);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test((err as Error).message)) throw err;
    }
  }
}

async function startOnce(node?: ClusterNode): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), "tickring-nats-"));
  const port = await freePort();
  const wsPort = await freePort();
  const storeDir = join(dir, "jetstream");
  // Defaults everywhere else: JetStream's file store syncs to disk on its own timer, not per publish
  // (nats-server 2.9 has no `sync_interval` option; see bench/README.md "Peers").
  const config = [
    ...(node === undefined ? [] : [`server_name: "${node.server}"`]),
    `listen: "127.0.0.1:${port}"`,
    `websocket { listen: "127.0.0.1:${wsPort}", no_tls: true, compression: false }`,
    `jetstream { store_dir: "${storeDir}" }`,
    ...(node === undefined
      ? []
      : [
          `cluster { name: "${node.cluster}", listen: "127.0.0.1:${node.routePort}",`,
          `  routes: [${node.routes.map((p) => `"nats-route://127.0.0.1:${p}"`).join(", ")}] }`,
        ]),
    "",
  ].join("\n");
  const configFile = join(dir, "nats.conf");
  writeFileSync(configFile, config);
  const child: ChildProcess = spawn("nats-server", ["-c", configFile], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  let log = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
      if (log.includes("Server is ready")) resolve();
    });
    exited.then((code) => {
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`nats-server exited with ${code}: ${log.trim()}`));
    });
  });
  child.stderr!.resume();
  return {
    pid: child.pid!,
    url: `nats://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    storeDir,
    config,
    stop: async () => {
      process.kill(child.pid!, "SIGTERM");
      const timer = setTimeout(() => process.kill(child.pid!, "SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
