/**
 * `node dist/bench/cluster/cluster.js [size]`: starts a JetStream cluster of `size` (default 3) nats-servers
 * on loopback, prints the URL list tickring takes (`tickring serve --replicate <urls> --stream-replicas 3`),
 * and runs until Ctrl-C, then stops them and removes their stores. The replication benchmark starts its own
 * the same way (nats-cluster.ts).
 */
import { natsServerVersion } from "../peers/nats-server.js";
import { startNatsCluster } from "./nats-cluster.js";

const size = Number(process.argv[2] ?? 3);
if (!Number.isInteger(size) || size < 1 || size > 9) {
  process.stderr.write(`cluster: expected a cluster size from 1 to 9, got ${process.argv[2]}\n`);
  process.exit(2);
}
if (natsServerVersion() === null) {
  process.stderr.write("cluster: nats-server is not installed (sh bench/peers/install.sh)\n");
  process.exit(1);
}
const cluster = await startNatsCluster(size);
process.stdout.write(
  `${size} nats-servers (${natsServerVersion()}), JetStream clustered on loopback, pids ${cluster.servers.map((s) => s.pid).join(" ")}\n` +
    `  tickring serve --replicate ${cluster.url} --stream-replicas ${size >= 3 ? 3 : 1} …\n` +
    "Ctrl-C stops them.\n",
);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void cluster.stop().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
setInterval(() => {}, 1 << 30);
