/**
 * deploy/nginx-tickring.conf in front of a real daemon: wss:// feeds and ingest and https:// endpoints
 * through nginx, with a certificate made for the test (openssl). The example file is used as it is, only
 * its addresses and certificate paths replaced. Needs Debian's nginx (.ci/run installs nginx-light); skipped,
 * saying so, where it is missing.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { get } from "node:https";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { type Daemon, startDaemon, tempDir } from "../support/daemon.js";

const EXAMPLE = fileURLToPath(new URL("../../../deploy/nginx-tickring.conf", import.meta.url));
const NGINX = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));
const OPENSSL = ["/usr/bin/openssl"].find((p) => existsSync(p));
const skip =
  NGINX === undefined || OPENSSL === undefined
    ? "nginx or openssl not installed (.ci/run installs them)"
    : false;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The example's server block, pointed at `upstream` and listening on `port` with the test's certificate. */
function configFrom(
  example: string,
  o: { port: number; upstream: number; cert: string; key: string },
): string {
  const replaced = example
    .replace("listen 443 ssl;", `listen 127.0.0.1:${o.port} ssl;`)
    .replace("listen [::]:443 ssl;", "")
    .replace("server 127.0.0.1:9420;", `server 127.0.0.1:${o.upstream};`)
    .replace("/etc/ssl/certs/tickring.pem", o.cert)
    .replace("/etc/ssl/private/tickring.key", o.key);
  const directives = replaced.replace(/#.*$/gm, "");
  for (const original of ["listen 443", "9420", "/etc/ssl/"]) {
    assert.ok(!directives.includes(original), `the example changed: ${original} is still in it`);
  }
  return replaced;
}

describe("nginx in front of tickring (deploy/nginx-tickring.conf)", { skip }, () => {
  const dir = tempDir("tickring-nginx-");
  let daemon: Daemon;
  let nginx: ChildProcess;
  let port = 0;
  let ca: Buffer;

  before(async () => {
    const cert = join(dir.path, "cert.pem");
    const key = join(dir.path, "key.pem");
    execFileSync(
      OPENSSL!,
      [
        ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", key, "-out", cert],
        ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
      ],
      { stdio: "ignore" },
    );
    ca = readFileSync(cert);
    daemon = await startDaemon(join(dir.path, "data"), ["--demo", "10:2000", "--workers", "1"]);
    port = await freePort();
    const server = configFrom(readFileSync(EXAMPLE, "utf8"), { port, upstream: daemon.port, cert, key });
    const prefix = dir.path;
    writeFileSync(
      join(prefix, "nginx.conf"),
      `worker_processes 1;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log;\ndaemon off;\n` +
        `events {}\nhttp {\n  access_log off;\n  client_body_temp_path ${prefix}/body;\n` +
        `  proxy_temp_path ${prefix}/proxy;\n${server}\n}\n`,
    );
    nginx = spawn(NGINX!, ["-p", prefix, "-c", join(prefix, "nginx.conf"), "-e", join(prefix, "error.log")], {
      stdio: "ignore",
    });
    // Ready once it answers.
    for (let i = 0; ; i++) {
      try {
        await httpsGet("/healthz");
        break;
      } catch (err) {
        if (i > 100)
          throw new Error(`nginx did not start: ${readFileSync(join(prefix, "error.log"), "utf8")}`, {
            cause: err,
          });
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  after(async () => {
    if (nginx !== undefined && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx.once("exit", r));
      nginx.kill("SIGQUIT");
      await exited;
    }
    if (daemon !== undefined) assert.equal(await daemon.stop(), 0, daemon.stderr());
    dir.remove();
  });

  function httpsGet(path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      get({ host: "127.0.0.1", port, path, ca }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      }).on("error", reject);
    });
  }

  test("https:// answers /healthz and /v1/stats through the proxy", async () => {
    const health = await httpsGet("/healthz");
    assert.equal(health.status, 200);
    assert.equal((JSON.parse(health.body) as { status: string }).status, "ok");
    const stats = await httpsGet("/v1/stats");
    assert.equal(stats.status, 200);
    assert.ok((JSON.parse(stats.body) as { transport: { name: string } }).transport.name.length > 0);
  });

  test("wss:// feed: subscribe and receive live ticks; wss:// ingest: a tick is acked and reaches the feed", async () => {
    const feed = new WebSocket(`wss://127.0.0.1:${port}/v1/feed`, { ca });
    // Open sockets would hold nginx's graceful stop (after()) forever, should an assertion fail.
    const sockets = [feed];
    try {
      const got: Record<string, unknown>[] = [];
      // A JSON feed message is a control object or an array of frames.
      feed.on("message", (d) => got.push(...[JSON.parse(d.toString()) as Record<string, unknown>].flat()));
      await new Promise((resolve, reject) => feed.once("open", resolve).once("error", reject));
      feed.send(JSON.stringify({ op: "subscribe", id: 1, symbols: ["*"], format: "json" }));
      const until = async (done: () => boolean, what: string) => {
        for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 25));
        assert.ok(done(), `timed out waiting for ${what}`);
      };
      await until(() => got.filter((m) => m.op === undefined).length >= 20, "demo ticks over wss");

      const pub = new WebSocket(`wss://127.0.0.1:${port}/v1/ingest`, { ca });
      sockets.push(pub);
      const acks: Record<string, unknown>[] = [];
      pub.on("message", (d) => acks.push(JSON.parse(d.toString()) as Record<string, unknown>));
      await new Promise((resolve, reject) => pub.once("open", resolve).once("error", reject));
      pub.send(JSON.stringify([{ type: "trade", symbol: "TLSX", price: 1.25, size: 7 }]));
      await until(() => acks.some((m) => m.op === "ack"), "ack over wss");
      await until(() => got.some((m) => m.symbol === "TLSX"), "the published tick on the feed");
    } finally {
      for (const ws of sockets) ws.terminate();
    }
  });
});
