/**
 * Keeps the peers benchmark honest and from rotting: its flags, and the counting its figures rest on —
 * the windowed publisher's acked ticks against what the daemon (and nats-server) say they stored, and
 * replays that parse or decode every frame and count exactly what was stored. The whole `--smoke` run,
 * rendered into a report, is in report-smoke.test.ts. Parts that need nats-server are skipped (with a
 * reason) where it is not installed (bench/peers/install.sh).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { publishWindowed } from "../../bench/e2e/window-publisher.js";
import { connectJetStream, publishAsync, replayOrdered } from "../../bench/peers/jetstream.js";
import { natsServerVersion, startNats } from "../../bench/peers/nats-server.js";
import { replayToDone } from "../../bench/replay/replay-client.js";
import { startDaemon, tempDir } from "../support/daemon.js";
import { assertExits2 } from "./exits-2.js";

const BENCH = fileURLToPath(new URL("../../bench/peers/peers.bench.js", import.meta.url));
const run = promisify(execFile);
const noNats = natsServerVersion() === null ? "nats-server is not installed (bench/peers/install.sh)" : false;

test("tickring bench peers: --help tells the paths and flags; a bad flag value exits 2 with one line", async () => {
  const { stdout } = await run(process.execPath, [BENCH, "--help"]);
  for (const word of ["fanout", "ingest", "replay", "--fsync os", "--window", "--formats"]) {
    assert.ok(stdout.includes(word), word);
  }
  await assertExits2(BENCH, [
    ["--only", "fanout,nope"],
    ["--formats", "xml"],
    ["--window", "50", "--batch", "100"],
  ]);
});

test("windowed publisher: acked ticks are the daemon's durable seqs; replays parse and decode every one", async () => {
  const dir = tempDir();
  const daemon = await startDaemon(dir.path, ["--workers", "1"]);
  try {
    const url = daemon.url("/v1/ingest");
    const json = await publishWindowed({ url, format: "json", batch: 100, window: 300, ticks: 1000 });
    const binary = await publishWindowed({ url, format: "flatbuffers", batch: 100, window: 300, ticks: 500 });
    assert.deepEqual([json.acked, binary.acked], [1000, 500]);
    const health = (await (await fetch(`http://127.0.0.1:${daemon.port}/healthz`)).json()) as { seq: number };
    assert.equal(health.seq, 1500);
    const to = { from: { seq: 1 }, to: { seq: 1500 }, speed: "max" };
    const asJson = await replayToDone(daemon.port, { ...to, format: "json" });
    const decoded = await replayToDone(daemon.port, to, { decode: true });
    assert.deepEqual([asJson.frames, decoded.frames], [1500, 1500]);
  } finally {
    await daemon.stop();
    dir.remove();
  }
});

test(
  "JetStream: asynchronous publishes are all stored; the ordered consumer reads each once",
  { skip: noNats },
  async () => {
    const nats = await startNats();
    try {
      const nc = await connectJetStream(nats.url);
      const published = await publishAsync(nc, { format: "json", window: 200, ticks: 1000 });
      assert.equal(published.acked, 1000);
      const replay = await replayOrdered(nc, "json", 1000);
      assert.equal(replay.frames, 1000);
      await nc.close();
      // NATS core through the windowed publisher: one PONG per batch of PUBs.
      const core = await publishWindowed({
        url: nats.url,
        format: "flatbuffers",
        batch: 100,
        window: 300,
        ticks: 700,
      });
      assert.equal(core.acked, 700);
    } finally {
      await nats.stop();
    }
  },
);
