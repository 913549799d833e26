/**
 * The repair of the WAL's end against the acked mark and the store, on real files: a damaged tail the store
 * holds comes back byte for byte; acked seqs nothing holds are refused (nothing changed) unless given up,
 * which records a hole and continues above every seq handed out; a torn tail of unacked writes is cut; a
 * store frame that is not the damaged record is never written in its place. And the acked mark itself.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { applyWalRepair } from "../../src/recovery/wal-repair.js";
import { planWalRepair, WalDamageError } from "../../src/recovery/wal-repair-plan.js";
import {
  AckedSeqFile,
  Indexer,
  listSegments,
  openWalReader,
  readAckedSeq,
  segmentPath,
  Store,
  Wal,
} from "../../src/storage/index.js";
import { recordOffsets, xorByte } from "../storage/disk.js";
import { makeFrames } from "../storage/helpers.js";
import { tempDir } from "../support/daemon.js";

const N = 400;
const FRAMES = makeFrames(1, N, 2);

/** A data dir: N frames in 16 KiB segments, the store indexed up to `indexed`. */
async function dataDir(path: string, indexed: number): Promise<void> {
  const { wal } = await Wal.open({ dir: join(path, "wal"), segmentBytes: 16 * 1024 });
  FRAMES.forEach((f, i) => {
    wal.append(f, i + 1);
    if (i % 7 === 6) wal.write();
  });
  await wal.close();
  const store = await Store.open({ dir: join(path, "store"), multithreading: false });
  const indexer = new Indexer(store, { walDir: join(path, "wal"), limitSeq: () => indexed });
  indexer.start();
  await indexer.waitFor(indexed);
  await indexer.stop();
  await store.close();
}

async function plan(data: string, ackedSeq: number) {
  const store = await Store.open({ dir: join(data, "store"), multithreading: false });
  return { store, plan: await planWalRepair({ data, store, ackedSeq }) };
}

/** Every frame and gap the WAL gives from seq 1. */
function walEvents(walDir: string): (number | string)[] {
  const out: (number | string)[] = [];
  const r = openWalReader(walDir, 1, { onGap: (a, b, reason) => out.push(`${reason} ${a}..${b}`) });
  for (let b = r.nextSync(); b !== null; b = r.nextSync())
    for (let i = 0; i < b.count; i++) out.push(b.firstSeq + i);
  r.close();
  return out;
}

function seqs(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

test("a flipped byte in the active segment, the store holding the seqs: restored byte for byte", async () => {
  const dir = tempDir("tickring-repair-");
  try {
    await dataDir(dir.path, N);
    const active = listSegments(join(dir.path, "wal")).at(-1)!;
    const original = readFileSync(active.file);
    const offsets = recordOffsets(active.file);
    const k = Math.floor(offsets.length / 2);
    xorByte(active.file, offsets[k] + 40); // inside the frame: the header's CRC no longer matches
    const { store, plan: p } = await plan(dir.path, N);
    assert.equal(p.action, "restore");
    assert.equal(p.offset, offsets[k]);
    assert.equal(p.validSeq, active.firstSeq + k - 1);
    assert.deepEqual(p.fromStore, [[active.firstSeq + k, active.firstSeq + k]]);
    assert.deepEqual(
      p.intact.map((r) => [r.firstSeq, r.firstSeq + r.count - 1]),
      [[active.firstSeq + k + 1, N]],
    );
    const done = await applyWalRepair(p, store);
    await store.close();
    assert.equal(done.lastSeq, N);
    assert.deepEqual(readFileSync(active.file), original, "the same bytes as before the damage");
    const { wal, report } = await Wal.open({ dir: join(dir.path, "wal") });
    assert.equal(report.lastSeq, N);
    await wal.close();
  } finally {
    dir.remove();
  }
});

test("a byte flipped in the length or the CRC field is restored too: the other field confirms the store's frame", async () => {
  for (const field of [0, 5]) {
    const dir = tempDir("tickring-repair-");
    try {
      await dataDir(dir.path, N);
      const active = listSegments(join(dir.path, "wal")).at(-1)!;
      const original = readFileSync(active.file);
      const offsets = recordOffsets(active.file);
      xorByte(active.file, offsets[3] + field, 0x08);
      const { store, plan: p } = await plan(dir.path, N);
      assert.equal(p.action, "restore", `field at +${field}`);
      await applyWalRepair(p, store);
      await store.close();
      assert.deepEqual(readFileSync(active.file), original);
    } finally {
      dir.remove();
    }
  }
});

test("a store frame that is not the damaged record is never written in its place", async () => {
  const dir = tempDir("tickring-repair-");
  try {
    await dataDir(dir.path, N);
    const active = listSegments(join(dir.path, "wal")).at(-1)!;
    const offsets = recordOffsets(active.file);
    // Both the CRC field and the frame changed: nothing ties the store's frame to these bytes.
    xorByte(active.file, offsets[2] + 5);
    xorByte(active.file, offsets[2] + 60);
    const damaged = readFileSync(active.file);
    const { store, plan: p } = await plan(dir.path, N);
    assert.equal(p.action, "restore");
    await assert.rejects(applyWalRepair(p, store), /is not the damaged record at offset \d+ .*not restored/);
    await store.close();
    assert.deepEqual(readFileSync(active.file), damaged, "nothing changed");
    assert.equal(existsSync(`${active.file}.repair`), false);
  } finally {
    dir.remove();
  }
});

test("acked seqs nothing holds: refused with file, offset and seqs, nothing changed; given up on request", async () => {
  const dir = tempDir("tickring-repair-");
  try {
    const indexed = 100;
    await dataDir(dir.path, indexed);
    const walDir = join(dir.path, "wal");
    const active = listSegments(walDir).at(-1)!;
    const offsets = recordOffsets(active.file);
    const bad = active.firstSeq + 4;
    assert.ok(bad > indexed, "the store does not hold it");
    xorByte(active.file, offsets[4] + 40);
    const damaged = readFileSync(active.file);
    const { store, plan: p } = await plan(dir.path, N);
    assert.equal(p.action, "refuse");
    assert.deepEqual(p.missing, [bad, bad]);
    await assert.rejects(applyWalRepair(p, store), (err: WalDamageError) => {
      assert.ok(err instanceof WalDamageError);
      assert.equal(err.code, "ERR_WAL_CORRUPT");
      assert.match(
        err.message,
        /^ERR_WAL_CORRUPT: seqs (\d+)\.\.\1 are held by neither the WAL nor the store/,
      );
      assert.ok(err.message.includes(`${active.file} is damaged at offset ${offsets[4]} (CRC32C mismatch)`));
      assert.ok(err.message.includes(`the file still holds seqs ${bad + 1}..${N} after it`));
      assert.ok(err.message.includes(`Seqs ${bad}..${N} are at stake`));
      assert.ok(err.message.includes(`tickring wal repair --data ${dir.path}`));
      assert.ok(err.message.includes(`continues at seq ${N + 1}`));
      return true;
    });
    assert.deepEqual(readFileSync(active.file), damaged, "nothing changed");
    const done = await applyWalRepair(p, store, { truncateAtCorruption: true });
    await store.close();
    assert.deepEqual(done.gaveUp, [bad, N]);
    assert.equal(done.lastSeq, N);
    assert.ok(existsSync(segmentPath(walDir, N + 1)), "the WAL continues in a new segment");
    const { wal, report } = await Wal.open({ dir: walDir });
    assert.equal(report.lastSeq, N, "the next seq is above every seq handed out");
    makeFrames(N + 1, N + 3).forEach((f, i) => wal.append(f, N + 1 + i));
    await wal.close();
    assert.deepEqual(walEvents(walDir), [...seqs(1, bad - 1), `lost ${bad}..${N}`, ...seqs(N + 1, N + 3)]);
  } finally {
    dir.remove();
  }
});

test("a WAL short of the acked mark: restored from the store when it holds the seqs (never rolled back), refused when not", async () => {
  for (const indexed of [N, N - 20]) {
    const dir = tempDir("tickring-repair-");
    try {
      await dataDir(dir.path, indexed);
      const active = listSegments(join(dir.path, "wal")).at(-1)!;
      const original = readFileSync(active.file);
      const offsets = recordOffsets(active.file);
      // Ten records gone at a record boundary: no bad byte, just short (a power loss under fsync=os).
      truncateSync(active.file, offsets[offsets.length - 10]);
      const { store, plan: p } = await plan(dir.path, N);
      assert.equal(p.reason, null);
      assert.equal(p.validSeq, N - 10);
      if (indexed === N) {
        assert.equal(p.action, "restore");
        await applyWalRepair(p, store);
        assert.deepEqual(readFileSync(active.file), original);
      } else {
        assert.equal(p.action, "refuse");
        assert.deepEqual(p.missing, [N - 9, N]);
        await assert.rejects(applyWalRepair(p, store), /the WAL ends at seq 390 .*seqs up to 400 were acked/);
      }
      await store.close();
    } finally {
      dir.remove();
    }
  }
});

test("a torn tail of writes never acked is cut by the open", async () => {
  const dir = tempDir("tickring-repair-");
  try {
    await dataDir(dir.path, N - 30);
    const walDir = join(dir.path, "wal");
    const active = listSegments(walDir).at(-1)!;
    const offsets = recordOffsets(active.file);
    truncateSync(active.file, offsets[offsets.length - 3] + 20);
    const { store, plan: p } = await plan(dir.path, N - 5);
    assert.equal(p.action, "cut");
    assert.equal(p.validSeq, N - 3);
    await applyWalRepair(p, store);
    await store.close();
    const { wal, report } = await Wal.open({ dir: walDir });
    assert.equal(report.lastSeq, N - 3);
    assert.equal(report.truncated?.offset, offsets[offsets.length - 3]);
    await wal.close();
  } finally {
    dir.remove();
  }
});

test("the acked mark: persisted above only, survives a torn slot, follows a source and persists it at close", async () => {
  const dir = tempDir("tickring-acked-");
  try {
    const file = join(dir.path, "acked-seq");
    assert.deepEqual(readAckedSeq(file), { seq: 0, damaged: false }, "absent: 0");
    const mark = AckedSeqFile.open(file);
    assert.equal(mark.seq, 0);
    await mark.persist(10);
    await Promise.all([mark.persist(11), mark.persist(30), mark.persist(20)]);
    assert.equal(readAckedSeq(file).seq, 30);
    await mark.persist(5);
    assert.equal(readAckedSeq(file).seq, 30, "never lowered");
    mark.persistSync(31);
    assert.equal(readAckedSeq(file).seq, 31);
    let source = 40;
    mark.follow(() => source, 5);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(readAckedSeq(file).seq, 40);
    source = 45;
    await mark.close();
    assert.equal(readAckedSeq(file).seq, 45, "close persists the source's last value");
    // Tear the slot holding 45 (the newest): the other slot's value remains.
    const bytes = readFileSync(file);
    const newest = bytes.readUInt32LE(0) === 45 ? 0 : 16;
    bytes[newest + 2] ^= 0xff;
    writeFileSync(file, bytes);
    assert.deepEqual(readAckedSeq(file), { seq: 40, damaged: false });
    const again = AckedSeqFile.open(file);
    assert.equal(again.seq, 40);
    await again.persist(50);
    assert.equal(readAckedSeq(file).seq, 50);
    await again.close();
    writeFileSync(file, Buffer.alloc(32, 0x33));
    assert.deepEqual(readAckedSeq(file), { seq: 0, damaged: true });
  } finally {
    dir.remove();
  }
});
