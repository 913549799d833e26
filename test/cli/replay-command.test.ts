/**
 * `tickring replay` as a user runs it, in a child process: bad bounds are misuse (exit 2), a server's
 * error exits as the error model says for its code, and a lost daemon is retried with every reason on
 * stderr until the cap, then exit 1 with one line naming the last.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { WebSocketServer } from "ws";
import { ingest, refusedPort } from "../client/helpers.js";
import { type Daemon, startDaemon, tempDir } from "../support/daemon.js";

const CLI = new URL("../../src/cli/main.js", import.meta.url).pathname;

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(args: string[]): Run {
  const child = spawn(process.execPath, [CLI, "replay", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  // A run that hangs (retrying forever, say) fails its test instead of the whole file.
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const exited = once(child, "exit").then(([code]) => {
    clearTimeout(timer);
    return code as number | null;
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = start(args);
  const code = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

/** Its one line of stderr, asserting there is exactly one. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line expected, got:\n${stderr}`);
  return lines[0];
}

describe("tickring replay", { timeout: 120_000 }, () => {
  const dir = tempDir();
  let daemon: Daemon;
  let url: string;
  before(async () => {
    daemon = await startDaemon(dir.path);
    url = `ws://127.0.0.1:${daemon.port}`;
    await ingest(daemon, 20);
  });
  after(async () => {
    await daemon.kill();
    dir.remove();
  });

  test("prints the frames of a bounded replay and exits 0", async () => {
    const r = await run(["--url", url, "--from", "3", "--to", "7", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const seqs = r.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { seq: number }).seq);
    assert.deepEqual(seqs, [3, 4, 5, 6, 7]);
  });

  test("a --to before --from exits 2 with one line, seqs or times", async () => {
    const bySeq = await run(["--url", url, "--from", "10", "--to", "5"]);
    assert.equal(bySeq.code, 2, bySeq.stderr);
    assert.match(oneLine(bySeq.stderr), /--to: 5 is before --from 10/);
    const byTime = await run([
      "--url",
      url,
      "--from",
      "2026-11-23T10:00:00Z",
      "--to",
      "2026-11-23T09:30:00Z",
    ]);
    assert.equal(byTime.code, 2, byTime.stderr);
    assert.match(oneLine(byTime.stderr), /--to: .* is before --from/);
  });

  test("a dead server exits 1 with one line naming the reason", async () => {
    const r = await run(["--url", `ws://127.0.0.1:${await refusedPort()}`, "--from", "1"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(oneLine(r.stderr), /^tickring: replay: UNAVAILABLE: .*ECONNREFUSED/);
  });

  test("a request the server refuses exits 2 (misuse), with the server's code", async () => {
    const r = await run(["--url", url, "--from", "1", "--symbols", "X".repeat(65)]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), /^tickring: replay: BAD_REQUEST: symbols/);
  });

  test("a server failure exits 1, with the server's code and incident", async () => {
    // The daemon does not fail on demand: a stand-in answers as it does on an internal error.
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(server, "listening");
    server.on("connection", (ws) =>
      ws.on("message", () =>
        ws.send(
          '{"op":"error","id":1,"code":"INTERNAL","message":"internal error: the server logged it with this incident id","incident":"a1b2c3"}',
        ),
      ),
    );
    try {
      const port = (server.address() as { port: number }).port;
      const r = await run(["--url", `ws://127.0.0.1:${port}`, "--from", "1"]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(oneLine(r.stderr), /^tickring: replay: INTERNAL: .*\(incident a1b2c3\)$/);
    } finally {
      server.close();
    }
  });
});

test(
  "tickring replay --live retries a lost daemon with every reason on stderr, then exits 1 at the cap",
  { timeout: 60_000 },
  async () => {
    const dir = tempDir();
    const daemon = await startDaemon(dir.path);
    try {
      const last = await ingest(daemon, 5);
      const r = start([
        "--url",
        `ws://127.0.0.1:${daemon.port}`,
        "--from",
        "1",
        "--live",
        "--reconnect-attempts",
        "2",
      ]);
      while (!r.stderr().includes("now live") && r.child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.match(r.stderr(), new RegExp(`history done at seq ${last}, now live`));
      assert.equal(await daemon.stop(), 0, daemon.stderr());
      assert.equal(await r.exited, 1, r.stderr());
      const lines = r.stderr().trimEnd().split("\n");
      assert.equal(lines.length, 4, r.stderr());
      assert.match(lines[1], /reconnecting in \d+ ms \(attempt 1 of 2\)/);
      assert.match(lines[2], /ECONNREFUSED.*reconnecting in \d+ ms \(attempt 2 of 2\)/);
      assert.match(
        lines[3],
        /^tickring: replay: UNAVAILABLE: .*gave up after 2 reconnect attempts: .*ECONNREFUSED/,
      );
      assert.equal(r.stdout().trim().split("\n").length, last, "every frame printed once");
    } finally {
      await daemon.kill();
      dir.remove();
    }
  },
);
