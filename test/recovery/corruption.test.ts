/**
 * Cycles that damage the last WAL segment between a kill -9 and the restart — a truncation or a flipped
 * byte at a random place: the daemon starts, logs the cut (file and offset, as an independent scan of the
 * damaged file predicts), resumes at the last good record, and holds exactly the good prefix; records the
 * test destroyed are the only ones missing.
 */
import assert from "node:assert/strict";
import { closeSync, openSync, readFileSync, readSync, statSync, truncateSync, writeSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { crc32c } from "@node-rs/crc32";
import { listSegments } from "../../src/storage/index.js";
import { startDaemon, tempDir } from "../support/daemon.js";
import { Publisher, randomInt, resumedSeq } from "./helpers.js";
import { CrashOracle, checkStoreMatchesWal } from "./oracle.js";

const CYCLES = 8;

/**
 * Where a reader should stop in `buf`: the end of the last record whose length, size prefix and CRC32C all
 * hold (written apart from the WAL code, so the test does not trust what it tests).
 */
function goodPrefix(buf: Buffer): { end: number; count: number } {
  let pos = 0;
  let count = 0;
  while (pos + 8 <= buf.length) {
    const len = buf.readUInt32LE(pos);
    if (len < 8 || len % 8 !== 0 || len > 256 * 1024 || pos + 8 + len > buf.length) break;
    const frame = buf.subarray(pos + 8, pos + 8 + len);
    if (frame.readUInt32LE(0) !== len - 4 || crc32c(frame) !== buf.readUInt32LE(pos + 4)) break;
    pos += 8 + len;
    count++;
  }
  return { end: pos, count };
}

/** Truncates `file` at a random offset in its second half, or flips one random byte there. */
function damage(file: string): string {
  const size = statSync(file).size;
  const at = Math.floor(size / 2) + randomInt(Math.ceil(size / 2));
  if (Math.random() < 0.5) {
    truncateSync(file, at);
    return `truncated at ${at} of ${size}`;
  }
  const fd = openSync(file, "r+");
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] ^= 1 + randomInt(255);
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
  return `flipped byte ${at} of ${size}`;
}

test(`corruption: ${CYCLES} × damage to the last WAL segment is cut, never replayed`, async (t) => {
  const dir = tempDir("tickring-corrupt-");
  const walDir = join(dir.path, "wal");
  const oracle = new CrashOracle();
  let cuts = 0;
  try {
    let daemon = await startDaemon(dir.path, ["--workers", "1", "--fsync", "batch"]);
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const seq = resumedSeq(daemon.logs);
      oracle.check(walDir, seq);
      const pub = await Publisher.connect(daemon.url("/v1/ingest"));
      pub.start();
      await pub.ackedAtLeast(200);
      await daemon.kill();
      await pub.stop();
      pub.close();
      oracle.absorb(pub, seq, pub.sentIds);

      const segments = listSegments(walDir);
      const last = segments[segments.length - 1];
      const how = damage(last.file);
      const expect = goodPrefix(readFileSync(last.file));
      const expectSeq = last.firstSeq + expect.count - 1;
      oracle.destroyAbove(expectSeq);

      daemon = await startDaemon(dir.path, ["--workers", "1", "--fsync", "batch"]);
      const cut = daemon.logs.find((l) => String(l.msg).startsWith("WAL tail torn or corrupt"));
      const size = statSync(last.file).size;
      if (expect.end < size || cut !== undefined) {
        assert.ok(cut !== undefined, `${how}: no cut logged`);
        assert.deepEqual([cut.file, cut.offset], [last.file, expect.end], how);
        cuts++;
      }
      assert.equal(resumedSeq(daemon.logs), expectSeq, how);
    }
    oracle.check(walDir, resumedSeq(daemon.logs));
    assert.equal(await daemon.stop(), 0, daemon.stderr());
    await checkStoreMatchesWal(dir.path);
    t.diagnostic(`${cuts} cuts logged over ${CYCLES} cycles, ${oracle.ackedTotal} ticks acked`);
  } finally {
    dir.remove();
  }
});
