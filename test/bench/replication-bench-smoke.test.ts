/**
 * Keeps the replication benchmark from rotting: its flags, and a `--smoke --json` run on every topology
 * (a single node, R1 on one nats-server, R3 on a 3-server cluster) whose figures are all there. Skipped
 * (with a reason) where nats-server is not installed; .ci/run installs it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { natsServerVersion } from "../../bench/peers/nats-server.js";
import { assertExits2 } from "./exits-2.js";

const BENCH = fileURLToPath(new URL("../../bench/replication/replication.bench.js", import.meta.url));
const run = promisify(execFile);
const noNats = natsServerVersion() === null ? "nats-server is not installed (bench/peers/install.sh)" : false;

test("tickring bench replication: --help tells what it measures; a bad flag value exits 2 with one line", async () => {
  const { stdout } = await run(process.execPath, [BENCH, "--help"]);
  for (const word of ["latency", "catch-up", "failover", "--only", "--failovers", "r3"]) {
    assert.ok(stdout.includes(word), word);
  }
  await assertExits2(BENCH, [
    ["--only", "single,r2"],
    ["--rate", "0"],
    ["--duration", "x"],
  ]);
});

test("tickring bench replication --smoke: every topology gives its figures", { skip: noNats }, async () => {
  const { stdout } = await run(process.execPath, [BENCH, "--smoke", "--json"], { timeout: 300_000 });
  const out = JSON.parse(stdout) as {
    machine: { loadAvgBefore: number[] };
    results: {
      topology: string;
      latency: { samples: number; latencyUs: { p50: number } };
      ingestDurable: { acked: number };
      ingestReplicated: { acked: number } | null;
      catchUp: { frames: number; framesPerSecond: number } | null;
      failoverMs: number[];
    }[];
  };
  assert.equal(out.machine.loadAvgBefore.length, 3);
  assert.deepEqual(
    out.results.map((r) => r.topology),
    ["single", "r1", "r3"],
  );
  for (const r of out.results) {
    assert.ok(r.latency.samples > 0 && r.latency.latencyUs.p50 > 0, `${r.topology} latency`);
    assert.ok(r.ingestDurable.acked > 0, `${r.topology} ingest`);
    if (r.topology === "single") continue;
    assert.ok(r.ingestReplicated!.acked > 0, `${r.topology} ingest, acks after replication`);
    assert.ok(r.catchUp!.frames > 0 && r.catchUp!.framesPerSecond > 0, `${r.topology} catch-up`);
    assert.equal(r.failoverMs.length, 1, `${r.topology} failover`);
    assert.ok(r.failoverMs[0] > 0);
  }
});
