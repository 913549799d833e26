/**
 * Keeps `tickring bench` and its report from rotting: the CLI's argument checks, and
 * `tickring bench report --smoke` over e2e (against the baseline), peers (against nats-server when it is
 * installed; the report says so otherwise), written to a temp dir. The other benchmarks' smoke
 * tests live beside their owners' tests.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { tempDir } from "../support/daemon.js";
import { assertExits2 } from "./exits-2.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const run = promisify(execFile);

test("tickring bench: an unknown name or a flag the benchmark does not take exits 2 with one line", async () => {
  await assertExits2(CLI, [
    ["bench", "nope"],
    ["bench", "replay", "--duration", "3"],
  ]);
});

test("tickring bench report --smoke writes report.md with tables and plots", async () => {
  const out = tempDir("tickring-report-");
  try {
    const args = [CLI, "bench", "report", "--smoke", "--only", "e2e,peers", "--out", out.path];
    const { stdout, stderr } = await run(process.execPath, args, { timeout: 120_000 });
    assert.match(stderr, /report 1\/2: e2e/);
    assert.ok(JSON.parse(stdout.trim().split("\n").pop()!).ok);
    const md = readFileSync(join(out.path, "report.md"), "utf8");
    for (const heading of ["## e2e", "## peers"]) assert.ok(md.includes(heading), heading);
    assert.match(md, /nproc/);
    const results = JSON.parse(readFileSync(join(out.path, "results.json"), "utf8"));
    const e2e = results.find((r: { name: string }) => r.name === "e2e").result;
    for (const row of e2e.results) {
      // The ws transport's figures beside the default's, unless the default already is ws.
      const wsIsDefault = String(e2e.machine.transport).startsWith("ws ");
      assert.equal(row.tickringWs === null, wsIsDefault, `${row.scenario}: tickring ws row`);
      for (const side of [row.tickring, row.baseline, ...(wsIsDefault ? [] : [row.tickringWs])]) {
        assert.ok(side.deliveredPerSecond > 0, `${row.scenario} delivered frames`);
        assert.ok(side.percentileCurveUs.length > 5);
      }
    }
    const svgs = ["e2e-latency.svg", "e2e-throughput.svg"];
    const peers = results.find((r: { name: string }) => r.name === "peers").result;
    if (peers.available) {
      assert.match(md, /nats-server v?\d+\.\d+/);
      svgs.push("peers-fanout.svg", "peers-ingest.svg", "peers-replay.svg");
      // Each path for each format, NATS and tickring's default policy (smoke runs no other), measured.
      assert.equal(peers.results.length, 6);
      for (const c of peers.results) {
        assert.ok(c.nats.perSecond > 0 && c.tickring.batch.perSecond > 0, `${c.path} ${c.format}`);
        assert.equal(c.tickring.os, null);
      }
      for (const heading of ["Fan-out, JSON", "Durable ingest, binary", "Replay of 2,000 ticks"]) {
        assert.ok(md.includes(heading), heading);
      }
    } else {
      assert.match(md, /not installed/);
    }
    for (const svg of svgs) {
      assert.ok(existsSync(join(out.path, svg)), svg);
      assert.match(readFileSync(join(out.path, svg), "utf8"), /^<svg/);
      assert.ok(md.includes(`](${svg})`), `report links ${svg}`);
    }
  } finally {
    out.remove();
  }
});
