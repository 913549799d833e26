/**
 * Starting on a full disk, on a real small tmpfs (skipped without one): LevelDB cannot open there, so the
 * start deletes the reserve file for room, opens, and says the disk was full (the daemon then serves
 * read-only); with no reserve left it fails with DISK_FULL naming the directory and its free space.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { pino } from "pino";
import { recoverDataDir } from "../../src/recovery/index.js";
import { openDataDir } from "../../src/storage/index.js";
import { makeFrames } from "../storage/helpers.js";
import { fillDisk } from "../storage/disk.js";
import { mountTmpfs } from "../support/tmpfs.js";

const fs = mountTmpfs(4 * 1024 * 1024);
const skip = typeof fs === "string" ? fs : false;
after(() => {
  if (typeof fs !== "string") fs.remove();
});

const RESERVE = 512 * 1024;

/** recoverDataDir with a small reserve; the log lines it wrote, as objects. */
async function recover(data: string) {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const r = await recoverDataDir({ data, wal: {}, log, reserveBytes: RESERVE });
  return { r, lines };
}

test(
  "on a full disk the start deletes the reserve for room and says so; without one it fails with DISK_FULL",
  { skip },
  async () => {
    if (typeof fs === "string") return;
    const data = join(fs.path, "data");
    // The daemon holds the directory before it recovers it.
    const held = await openDataDir(data);
    const first = await recover(data);
    makeFrames(1, 50).forEach((f, i) => first.r.wal.append(f, i + 1));
    await first.r.wal.close();
    await first.r.store.close();
    await first.r.acked.close();
    // The reserve is made in the background once recovered: wait for it.
    for (let i = 0; i < 100 && !first.r.reserve.present; i++) await new Promise((res) => setTimeout(res, 10));
    assert.ok(first.r.reserve.present, "the first start made the reserve");
    assert.equal(first.r.diskFull, undefined);

    fillDisk(fs.path);
    const full = await recover(data);
    assert.equal(full.r.report.lastSeq, 50);
    assert.deepEqual(full.r.diskFull && full.r.diskFull.reserveReleased, RESERVE);
    assert.ok(full.lines.some((l) => l.msg === "disk full at start: deleted the reserve file for room"));
    assert.equal(existsSync(join(data, "reserve")), false);
    await full.r.wal.close();
    await full.r.store.close();
    await full.r.acked.close();

    // No reserve left and the disk still full (what the last start freed is taken again).
    fillDisk(fs.path, "filler-2");
    await assert.rejects(recover(data), (err: Error & { code: string }) => {
      assert.equal(err.code, "DISK_FULL");
      assert.match(
        err.message,
        /^DISK_FULL: opening the store needs more space in .*data, which has 0\.0 MiB free$/,
      );
      return true;
    });
    held.release();
  },
);
