/** What the client-library tests share: a port nobody listens on, ingest, and a meddling proxy. */
import { once } from "node:events";
import { createServer } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { Client, type Daemon } from "../support/daemon.js";

/** A loopback port that refuses connections (it was free a moment ago). */
export async function refusedPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/** Publishes `n` trades and returns the seq of the last, once durable. */
export async function ingest(daemon: Daemon, n: number, symbol = "CLI"): Promise<number> {
  const pub = await Client.connect(daemon.url("/v1/ingest"));
  pub.send(Array.from({ length: n }, (_, i) => ({ type: "trade", symbol, price: 1 + i / 100, size: 1 })));
  const ack = (await pub.nextOp("ack")).seq as number;
  pub.close();
  return ack;
}

/**
 * A WebSocket proxy in front of the daemon's `/v1/feed`, as a load balancer or gateway would stand there.
 * On the n-th connection through it, `inject(n)` may return a text message to slip in after the first
 * binary message from the daemon, or before its second text message if that comes first (a proxy's error
 * page, a truncated message, …).
 */
export class FeedProxy {
  readonly connections: WebSocket[] = [];
  private constructor(private readonly server: WebSocketServer) {}

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  static async start(
    upstream: string,
    inject: (connection: number) => string | undefined,
  ): Promise<FeedProxy> {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(server, "listening");
    const proxy = new FeedProxy(server);
    server.on("connection", (down) => {
      proxy.connections.push(down);
      const extra = inject(proxy.connections.length);
      const up = new WebSocket(upstream);
      const pending: string[] = [];
      let injected = extra === undefined;
      down.on("message", (data, isBinary) => {
        if (up.readyState === WebSocket.OPEN) up.send(data, { binary: isBinary });
        else pending.push(data.toString());
      });
      up.on("open", () => {
        for (const m of pending) up.send(m);
      });
      let forwarded = 0;
      up.on("message", (data, isBinary) => {
        if (down.readyState !== WebSocket.OPEN) return;
        // Mid-stream: after the first binary message, or before the end if no binary message comes.
        if (!injected && !isBinary && forwarded > 0) {
          injected = true;
          down.send(extra!);
        }
        down.send(data, { binary: isBinary });
        forwarded++;
        if (!injected && isBinary) {
          injected = true;
          down.send(extra!);
        }
      });
      up.on("close", () => down.close());
      up.on("error", () => down.terminate());
      down.on("close", () => up.close());
    });
    return proxy;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
