/**
 * `tickring wal repair` as an operator meets it: --help tells the truth, misuse exits 2 with one line, a
 * directory a daemon holds is refused (ERR_DATA_LOCKED, exit 1), a dry run reports and changes nothing,
 * and --truncate-at-corruption restores what the store holds without giving anything up.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Indexer, listSegments, Store, Wal } from "../../src/storage/index.js";
import { xorByte } from "../storage/disk.js";
import { makeFrames } from "../storage/helpers.js";
import { startDaemon, tempDir } from "../support/daemon.js";
import { oneLine, run } from "./run.js";

/** A stopped daemon's data dir: 300 frames, all indexed. */
async function dataDir(path: string): Promise<void> {
  const { wal } = await Wal.open({ dir: join(path, "wal") });
  makeFrames(1, 300).forEach((f, i) => wal.append(f, i + 1));
  await wal.close();
  const store = await Store.open({ dir: join(path, "store"), multithreading: false });
  const indexer = new Indexer(store, { walDir: join(path, "wal") });
  indexer.start();
  await indexer.waitFor(300);
  await indexer.stop();
  await store.close();
}

/** Every file under `dir` (name → size and bytes), the store's included. */
function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, name);
    if (statSync(p).isFile()) out.set(name, readFileSync(p));
  }
  return out;
}

test("--help says what it does, that a dry run is the default, and the exit statuses", async () => {
  const r = await run(["wal", "repair", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--data <dir>/);
  assert.match(r.stdout, /--truncate-at-corruption/);
  assert.match(r.stdout, /--json/);
  assert.match(r.stdout, /Without --truncate-at-corruption nothing in the data directory changes/);
  assert.match(r.stdout, /Exit status: 0 done .* 1 failed .* 2 bad arguments/s);
});

test("misuse exits 2 with one line: no --data, an unknown flag, a path that is not a data directory", async () => {
  const dir = tempDir("tickring-walcli-");
  try {
    for (const args of [
      ["wal", "repair"],
      ["wal", "repair", "--data", dir.path, "--force"],
      ["wal", "repair", "--data", join(dir.path, "absent")],
      ["wal", "repair", "--data", dir.path],
    ]) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(oneLine(r), /^tickring: /);
    }
    assert.match(
      oneLine(await run(["wal", "repair", "--data", dir.path])),
      /ERR_DATA_MISSING: .* is not a tickring data directory/,
    );
  } finally {
    dir.remove();
  }
});

test("a directory a running daemon holds is refused with ERR_DATA_LOCKED naming its pid", async () => {
  const dir = tempDir("tickring-walcli-");
  try {
    const daemon = await startDaemon(dir.path, ["--workers", "1"]);
    const r = await run(["wal", "repair", "--data", dir.path]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r), new RegExp(`ERR_DATA_LOCKED: .* held by process ${daemon.child.pid}\\b`));
    assert.equal(await daemon.stop(), 0, daemon.stderr());
  } finally {
    dir.remove();
  }
});

test("a clean WAL: nothing to repair; damage the store holds: a dry run changes nothing, --truncate-at-corruption restores it", async () => {
  const dir = tempDir("tickring-walcli-");
  try {
    await dataDir(dir.path);
    const clean = await run(["wal", "repair", "--data", dir.path, "--json"]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal((JSON.parse(clean.stdout) as { action: string }).action, "none");

    const seg = listSegments(join(dir.path, "wal"))[0];
    const original = readFileSync(seg.file);
    xorByte(seg.file, 1000, 0x01);
    const before = tree(dir.path);
    const dry = await run(["wal", "repair", "--data", dir.path]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /is damaged at offset \d+ \(CRC32C mismatch\)/);
    assert.match(dry.stdout, /The daemon restores seqs \d+ from the store at start and loses nothing/);
    assert.deepEqual(tree(dir.path), before, "not a byte changed, the store's files included");

    const fixed = await run(["wal", "repair", "--data", dir.path, "--truncate-at-corruption"]);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.match(
      fixed.stdout,
      /Done: restored seqs \d+ from the store; the WAL ends at seq 300, the daemon continues at seq 301/,
    );
    assert.deepEqual(readFileSync(seg.file), original);
  } finally {
    dir.remove();
  }
});
