/**
 * Helpers of the replication tests: a real nats-server (JetStream, temp store, free loopback ports) and
 * real daemons in child processes as leaders, standbys and followers; their stats over HTTP; waiting for
 * a node to reach a seq or say something in its log.
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { natsServerVersion, type NatsServer, startNats } from "../../bench/peers/nats-server.js";
import { until } from "../../bench/replication/poll.js";
import type { ReplicationStats } from "../../src/replication/replication.js";
import { type Daemon, startDaemon } from "../support/daemon.js";
import { Publisher, readWal } from "../recovery/helpers.js";
import type { CrashOracle } from "../recovery/oracle.js";

/** Why the replication tests are skipped, or false: they need nats-server (.ci/run installs it). */
export const NO_NATS =
  natsServerVersion() === null
    ? "nats-server is not installed (sh bench/peers/install.sh; .ci/run does it)"
    : false;

export { startNats, type NatsServer, until };

/** A node's stats: its seqs and its replication figures. */
export interface NodeStats {
  seq: { last: number; written: number; durable: number };
  replication: ReplicationStats;
}

/** A tickring node of the group at `nats` (a server, or a URL to reach it by): `role` plus `args`, one worker. */
export function startNode(
  data: string,
  role: "--replicate" | "--follow",
  nats: NatsServer | string,
  args: string[] = [],
): Promise<Daemon> {
  return startDaemon(data, ["--workers", "1", role, typeof nats === "string" ? nats : nats.url, ...args]);
}

export async function statsOf(d: Daemon): Promise<NodeStats> {
  const res = await fetch(`http://127.0.0.1:${d.port}/v1/stats`);
  return (await res.json()) as NodeStats;
}

/** Waits until node `d` has written every seq up to `seq`. */
export function untilWritten(d: Daemon, seq: number, timeoutMs?: number): Promise<void> {
  return until(async () => (await statsOf(d)).seq.written >= seq, `seq ${seq} on port ${d.port}`, timeoutMs);
}

/** Waits for a log line of `d` whose msg is `msg`; returns it. */
export async function untilLogged(
  d: Daemon,
  msg: string,
  timeoutMs?: number,
): Promise<Record<string, unknown>> {
  await until(() => d.logs.some((l) => l.msg === msg), `"${msg}" in the log of port ${d.port}`, timeoutMs);
  return d.logs.find((l) => l.msg === msg)!;
}

/** The frames of a node's WAL, read from its data dir. */
export function walOf(d: Daemon): Buffer[] {
  return readWal(join(d.data, "wal"));
}

/**
 * A TCP relay to a port that the test can cut and heal: a node that reaches NATS through it is
 * partitioned from NATS on `cut()` (its connections dropped, new ones refused) and reconnects on `heal()`.
 */
export class Partition {
  private readonly sockets = new Set<Socket>();
  private open = true;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async to(target: string): Promise<Partition> {
    const { hostname, port } = new URL(target);
    const gate: { it?: Partition } = {};
    const server = createServer((client) => {
      const g = gate.it!;
      if (!g.open) {
        client.destroy();
        return;
      }
      const upstream = connect(Number(port), hostname);
      for (const s of [client, upstream]) {
        g.sockets.add(s);
        s.on("error", () => {});
        s.on("close", () => {
          g.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    gate.it = new Partition(server, `nats://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return gate.it;
  }

  /** Drops every connection through the relay and refuses new ones. */
  cut(): void {
    this.open = false;
    for (const s of this.sockets) s.destroy();
  }

  heal(): void {
    this.open = true;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Publishes `messages` messages of 1 to `maxTicks` ticks to node `d`, waits for every ack, and tells
 * `oracle`; returns the last seq acked.
 */
export async function publishAcked(
  d: Daemon,
  oracle: CrashOracle,
  messages: number,
  maxTicks: number,
): Promise<number> {
  const pub = await Publisher.connect(d.url("/v1/ingest"));
  const from = (await statsOf(d)).seq.written;
  for (let m = 0; m < messages; m++) pub.send(1 + (m % maxTicks));
  await pub.drain();
  pub.close();
  oracle.absorb(pub, from, pub.sentIds);
  return Math.max(...pub.acked.keys());
}
