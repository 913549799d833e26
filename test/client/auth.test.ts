/**
 * The client library and `tickring replay` against a daemon with auth on: the token goes in the first
 * message, a callback refreshes it before it expires (the connection stays), a plain token that expires
 * ends the subscription, and a refused token or subscription is an error the application sees.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type ClientError, TickringClient } from "../../src/client/index.js";
import { bearer, tokenFor, writeSecret } from "../support/auth.js";
import { Client, type Daemon, startDaemon, tempDir } from "../support/daemon.js";

const CLI = new URL("../../src/cli/main.js", import.meta.url).pathname;

describe("the client with a token", { timeout: 60_000 }, () => {
  const dir = tempDir();
  const secret = writeSecret(dir.path);
  let daemon: Daemon;
  let url: string;
  before(async () => {
    daemon = await startDaemon(dir.path, ["--auth-secret-file", secret.path]);
    url = `ws://127.0.0.1:${daemon.port}`;
  });
  after(async () => {
    assert.equal(await daemon.stop(), 0, daemon.stderr());
    dir.remove();
  });

  const reader = (ttlMs?: number) =>
    tokenFor(secret.bytes, "reader", { realtime: ["*"], history: ["*"] }, ttlMs);

  async function publish(symbol: string): Promise<number> {
    const pub = await Client.connect(
      daemon.url("/v1/ingest"),
      bearer(await tokenFor(secret.bytes, "feed", { ingest: true })),
    );
    pub.send({ type: "trade", symbol, price: 1, size: 1 });
    const seq = (await pub.nextOp("ack")).seq as number;
    pub.close();
    return seq;
  }

  test("a token callback refreshes the token before it expires: the connection stays", async () => {
    let asked = 0;
    const client = new TickringClient({
      url,
      token: () => {
        asked++;
        return reader(2000);
      },
    });
    const seqs: number[] = [];
    const reconnects: string[] = [];
    await client.subscribe(
      { symbols: ["REFRESH"] },
      { frame: (_f, seq) => seqs.push(seq), reconnecting: (_a, _d, why) => reconnects.push(why.message) },
    );
    // Past the first token's exp (at most 2 s away), and then some.
    await new Promise((r) => setTimeout(r, 3000));
    const seq = await publish("REFRESH");
    for (let i = 0; i < 100 && !seqs.includes(seq); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(seqs.includes(seq), "a frame after the first token expired");
    assert.ok(asked >= 2, `the callback was asked ${asked} times`);
    assert.deepEqual(reconnects, [], "no reconnect");
    client.close();
  });

  test("a plain token cannot be refreshed: the subscription ends with UNAUTHORIZED once it expires", async () => {
    const client = new TickringClient({ url, token: await reader(1500) });
    const ended = new Promise<ClientError>((resolve) => {
      client.subscribe({ symbols: ["X"] }, { frame: () => {}, error: resolve }).catch(resolve);
    });
    const err = await ended;
    assert.equal(err.code, "UNAUTHORIZED");
    assert.match(err.message, /token expired/);
    client.close();
  });

  test("a refused token or subscription rejects subscribe()", async () => {
    const wrong = new TickringClient({
      url,
      token: await tokenFor(writeSecret(dir.path, "x").bytes, "r", {}),
    });
    await assert.rejects(wrong.subscribe({ symbols: ["X"] }, { frame: () => {} }), (e: ClientError) => {
      return e.code === "UNAUTHORIZED" && /bad token signature/.test(e.message);
    });
    const none = new TickringClient({ url, reconnect: false });
    await assert.rejects(none.subscribe({ symbols: ["X"] }, { frame: () => {} }), { code: "UNAUTHORIZED" });
    const narrow = new TickringClient({
      url,
      token: await tokenFor(secret.bytes, "n", { realtime: ["AAPL"] }),
    });
    await assert.rejects(narrow.subscribe({ symbols: ["MSFT"] }, { frame: () => {} }), { code: "FORBIDDEN" });
    for (const c of [wrong, none, narrow]) c.close();
  });

  test("tickring replay --token and --token-file", async () => {
    const last = await publish("REPLAY");
    const args = [
      "replay",
      "--url",
      url,
      "--symbols",
      "REPLAY",
      "--from",
      String(last),
      "--to",
      String(last),
      "--json",
    ];
    const replay = (extra: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [CLI, ...args, ...extra], { timeout: 20_000 }, (err, stdout, stderr) =>
          resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr }),
        ),
      );
    const withToken = await replay(["--token", await reader()]);
    assert.equal(withToken.code, 0, withToken.stderr);
    assert.equal(JSON.parse(withToken.stdout).seq, last);
    const file = join(dir.path, "token");
    writeFileSync(file, `${await reader()}\n`);
    const withFile = await replay(["--token-file", file]);
    assert.equal(withFile.code, 0, withFile.stderr);
    assert.equal(JSON.parse(withFile.stdout).seq, last);
    const without = await replay([]);
    assert.equal(without.code, 2);
    assert.match(without.stderr, /^tickring: replay: UNAUTHORIZED: /);
  });
});
