/**
 * Snapshots end to end, through the CLI and the real daemon: one taken online under ingest equals the
 * original up to its seq (WAL bytes and store), restores elsewhere into a daemon that continues the seq;
 * verify catches a flipped byte and a missing file; restore refuses a non-empty dir unless --force; an
 * offline create refuses a dir a daemon holds.
 */
import assert from "node:assert/strict";
import { cpSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Client, type Daemon, startDaemon, tempDir } from "../support/daemon.js";
import { cli, Publisher, readWal, resumedSeq } from "./helpers.js";
import { xorByte } from "../storage/disk.js";
import { checkStoreMatchesWal } from "./oracle.js";

describe("snapshots", () => {
  const dir = tempDir("tickring-snap-");
  const data = join(dir.path, "data");
  let daemon: Daemon;
  let snap: { id: string; seq: number; path: string };

  before(async () => {
    daemon = await startDaemon(data, ["--workers", "1", "--fsync", "batch"]);
    const pub = await Publisher.connect(daemon.url("/v1/ingest"));
    pub.start();
    await pub.ackedAtLeast(500);
    // Online, through the CLI, while the publisher keeps going.
    const r = await cli(["snapshot", "create", "--url", `http://127.0.0.1:${daemon.port}`]);
    assert.equal(r.code, 0, r.stderr);
    // An answer names nothing of the server's file system: the operator knows where its data dir is.
    snap = JSON.parse(r.stdout);
    assert.equal(snap.path, undefined);
    snap.path = join(data, "snapshots", snap.id);
    await pub.ackedAtLeast(pub.acked.size + 200);
    await pub.stop();
    await pub.drain();
    pub.close();
  });
  after(async () => {
    if (daemon.child.exitCode === null) await daemon.stop();
    dir.remove();
  });

  test("an offline create or restore refuses a data dir a daemon holds, naming its pid; bad arguments exit 2", async () => {
    const holder = new RegExp(`process ${daemon.child.pid}\\b`);
    const locked = await cli(["snapshot", "create", "--data", data, "--out", join(dir.path, "x")]);
    assert.equal(locked.code, 1);
    assert.match(locked.stderr, /ERR_DATA_LOCKED/);
    assert.match(locked.stderr, holder);
    const restore = await cli(["snapshot", "restore", snap.path, "--data", data, "--force"]);
    assert.equal(restore.code, 1);
    assert.match(restore.stderr, /ERR_DATA_LOCKED/);
    assert.match(restore.stderr, holder);
    assert.equal(daemon.child.exitCode, null, "the daemon still runs");
    const neither = await cli(["snapshot", "create"]);
    assert.equal(neither.code, 2);
    assert.equal(neither.stderr.trim().split("\n").length, 1);
  });

  test("the online snapshot equals the original up to its seq, and verifies", async () => {
    assert.equal(await daemon.stop(), 0, daemon.stderr());
    assert.ok(snap.seq >= 500, `snapshot seq ${snap.seq}`);
    const original = readWal(join(data, "wal"));
    assert.ok(original.length > snap.seq, "ingest went on after the snapshot");
    const copy = readWal(join(snap.path, "wal"));
    assert.equal(copy.length, snap.seq);
    copy.forEach((f, i) => {
      assert.ok(f.equals(original[i]), `seq ${i + 1}`);
    });
    const v = await cli(["snapshot", "verify", snap.path]);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(JSON.parse(v.stdout).seq, snap.seq);
    const list = await cli(["snapshot", "list", "--data", data, "--json"]);
    assert.deepEqual(
      list.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).id),
      [snap.id],
    );
  });

  test("restored elsewhere, a daemon serves the snapshot's data and continues its seq", async () => {
    const restored = join(dir.path, "restored");
    const r = await cli(["snapshot", "restore", snap.path, "--data", restored]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await checkStoreMatchesWal(restored), JSON.parse(readFileText(snap.path)).storeCheckpoint);
    const d = await startDaemon(restored, ["--workers", "1"]);
    try {
      assert.equal(resumedSeq(d.logs), snap.seq);
      const pub = await Client.connect(d.url("/v1/ingest"));
      pub.send([{ type: "trade", symbol: "AAPL", price: 1, size: 1 }]);
      assert.equal((await pub.nextOp("ack")).seq, snap.seq + 1);
      pub.close();
    } finally {
      assert.equal(await d.stop(), 0, d.stderr());
    }
    const original = readWal(join(data, "wal"));
    const after = readWal(join(restored, "wal"));
    assert.equal(after.length, snap.seq + 1);
    for (let i = 0; i < snap.seq; i++) assert.ok(after[i].equals(original[i]), `seq ${i + 1}`);
    await checkStoreMatchesWal(restored);

    const refused = await cli(["snapshot", "restore", snap.path, "--data", restored]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /ERR_DATA_NOT_EMPTY/);
    const forced = await cli(["snapshot", "restore", snap.path, "--data", restored, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(readWal(join(restored, "wal")).length, snap.seq);
    assert.deepEqual(
      readdirSync(dir.path).filter((n) => n.startsWith("restored")),
      ["restored"],
      "no temp or old directory left behind",
    );
  });

  test("list and verify of a path that does not exist exit 2 with one ERR_DATA_MISSING line", async () => {
    const nowhere = join(dir.path, "nonexistent");
    for (const args of [
      ["snapshot", "list", "--data", nowhere],
      ["snapshot", "verify", nowhere],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /ERR_DATA_MISSING/);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.equal(r.stdout, "");
    }
  });

  test("verify catches a flipped byte and a missing file", async () => {
    const flipped = join(dir.path, "flipped");
    cpSync(snap.path, flipped, { recursive: true });
    const seg = join(
      flipped,
      "wal",
      readdirSync(join(flipped, "wal")).find((n) => n.endsWith(".log"))!,
    );
    xorByte(seg, Math.floor(statSync(seg).size / 2), 0xff);
    const bad = await cli(["snapshot", "verify", flipped]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /ERR_SNAPSHOT_CHECKSUM/);

    const missing = join(dir.path, "missing");
    cpSync(snap.path, missing, { recursive: true });
    const table = readdirSync(join(missing, "store")).find((n) => n.startsWith("MANIFEST"))!;
    rmSync(join(missing, "store", table));
    const gone = await cli(["snapshot", "verify", missing]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /ERR_SNAPSHOT_MISSING_FILE/);
    const restore = await cli(["snapshot", "restore", missing, "--data", join(dir.path, "never")]);
    assert.equal(restore.code, 1);
    assert.deepEqual(
      readdirSync(dir.path).filter((n) => n.startsWith("never")),
      [],
      "a failed restore leaves nothing behind",
    );
  });
});

function readFileText(snapshot: string): string {
  return readFileSync(join(snapshot, "manifest.json"), "utf8");
}
