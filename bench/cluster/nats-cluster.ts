/**
 * A JetStream cluster of `nats-server`s on loopback, for the replication benchmark (R3 streams need at
 * least three servers): each node with its own client, WebSocket and route ports and its own store, routes
 * to every other, started together and ready once JetStream has elected its meta leader.
 */
import { connect } from "nats";
import { freePort, type NatsServer, startNats } from "../peers/nats-server.js";

export interface NatsCluster {
  servers: NatsServer[];
  /** Every client URL, comma-separated: what `tickring serve --replicate` takes. */
  url: string;
  stop(): Promise<void>;
}

/** Starts `size` servers clustered on loopback; resolves once JetStream answers through the first. */
export async function startNatsCluster(size = 3, name = "tickring-bench"): Promise<NatsCluster> {
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const servers = await Promise.all(
    routePorts.map((routePort, i) =>
      startNats({
        cluster: name,
        server: `n${i + 1}`,
        routePort,
        routes: routePorts.filter((p) => p !== routePort),
      }),
    ),
  );
  const cluster = {
    servers,
    url: servers.map((s) => s.url).join(","),
    // A server that is gone already (killed from outside) is stopped.
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop().catch(() => {})));
    },
  };
  try {
    await jetStreamReady(servers[0].url);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** Waits until the JetStream API answers (the cluster has a meta leader): at most 30 s. */
async function jetStreamReady(url: string): Promise<void> {
  const nc = await connect({ servers: url.replace("nats://", "") });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const jsm = await nc.jetstreamManager({ timeout: 1000 });
        await jsm.getAccountInfo();
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(`JetStream cluster not ready after 30 s: ${(err as Error).message}`, {
            cause: err,
          });
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await nc.close();
  }
}
