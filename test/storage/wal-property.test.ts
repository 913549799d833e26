/**
 * Property: whatever happens to the tail of the last segment — a cut at any byte, or any byte flipped — open
 * either keeps exactly the records before the damage, reports the cut, and appending continues with no seq
 * gap (a torn tail: nothing intact after the damage), or, when intact records follow the damaged one (a
 * flipped byte before the last record), refuses with ERR_WAL_CORRUPT naming the file and offset and changes
 * nothing: cutting there would drop records that may have been acked.
 */
import assert from "node:assert/strict";
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { FrameEncoder } from "../../src/frame/codec.js";
import { Wal } from "../../src/storage/wal/wal.js";
import { openWalReader } from "../../src/storage/wal/reader.js";
import { RECORD_HEADER_LENGTH } from "../../src/storage/wal/record-layout.js";
import { readAllWal, tempDir, tickFor, tsOf } from "./helpers.js";

const SEED = Number(process.env.FC_SEED ?? 20261123);

function encodeAll(levels: number[]): Uint8Array[] {
  const enc = new FrameEncoder();
  return levels.map((l, i) => enc.encode(tickFor(i + 1, l), BigInt(i + 1), tsOf(i + 1)).slice());
}

const damageArb = fc.oneof(
  fc.record({ kind: fc.constant("none" as const) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.double({ min: 0, max: 0.9999, noNaN: true }),
    xor: fc.integer({ min: 1, max: 255 }),
  }),
);

test("open + read returns exactly the good prefix after a random cut or byte flip; seq resumes", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 150 }),
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
      damageArb,
      fc.integer({ min: 1, max: 20 }),
      async (levels, groups, damage, more) => {
        if (process.env.WAL_PROP_TRACE) console.error(JSON.stringify({ levels, groups, damage, more }));
        const { dir, cleanup } = tempDir();
        try {
          const frames = encodeAll([...levels, ...Array.from({ length: more }, () => 1)]);
          const written = frames.slice(0, levels.length);
          const { wal } = await Wal.open({ dir, segmentBytes: 4096, fsync: "os" });
          let g = 0;
          let inGroup = 0;
          for (let i = 0; i < written.length; i++) {
            wal.append(written[i], i + 1);
            if (++inGroup === groups[g % groups.length]) {
              wal.write();
              inGroup = 0;
              g++;
            }
          }
          await wal.close();
          const last = wal.segments().at(-1)!;
          // Record boundaries of the last segment, from the known frame sizes.
          const ends: number[] = [];
          let end = 0;
          for (let s = last.firstSeq; s <= written.length; s++)
            ends.push((end += RECORD_HEADER_LENGTH + written[s - 1].length));
          const size = end;
          let p = size; // first damaged byte
          if (damage.kind === "cut") {
            p = Math.floor(damage.at * size);
            truncateSync(last.file, p);
          } else if (damage.kind === "flip" && size > 0) {
            p = Math.floor(damage.at * size);
            const bytes = readFileSync(last.file);
            bytes[p] ^= damage.xor;
            writeFileSync(last.file, bytes);
          }
          const good = ends.filter((e) => e <= p).length;
          const expectLast = last.firstSeq + good - 1;
          const lastRecord = last.firstSeq + ends.length - 1;
          if (damage.kind === "flip" && size > 0 && expectLast + 1 < lastRecord) {
            const before = readFileSync(last.file);
            await assert.rejects(
              Wal.open({ dir, segmentBytes: 4096, fsync: "os" }),
              (e: Error & { code: string; file: string; offset: number }) => {
                assert.equal(e.code, "ERR_WAL_CORRUPT");
                assert.equal(e.file, last.file);
                assert.equal(e.offset, good === 0 ? 0 : ends[good - 1]);
                assert.match(e.message, new RegExp(`seqs ${expectLast + 2}\\.\\.${lastRecord} follow`));
                return true;
              },
            );
            assert.deepEqual(readFileSync(last.file), before, "nothing cut");
            return;
          }

          const { wal: w2, report } = await Wal.open({ dir, segmentBytes: 4096, fsync: "os" });
          assert.equal(report.lastSeq, expectLast);
          const cutExpected =
            damage.kind === "flip" ? size > 0 : damage.kind === "cut" && !ends.includes(p) && p > 0;
          assert.equal(report.truncated !== undefined, cutExpected, JSON.stringify(report));
          if (report.truncated) assert.equal(report.truncated.offset, good === 0 ? 0 : ends[good - 1]);
          const got = readAllWal((s) => openWalReader(dir, s), 1);
          assert.deepEqual(got.frames, written.slice(0, expectLast));
          // Resume: the next seq is lastSeq + 1 and the WAL reads back gap-free.
          const extra = encodeAll([
            ...levels.slice(0, expectLast).map(() => 0),
            ...Array.from({ length: more }, () => 1),
          ]).slice(expectLast);
          for (let i = 0; i < extra.length; i++) w2.append(extra[i], expectLast + 1 + i);
          await w2.close();
          const after = readAllWal((s) => openWalReader(dir, s), 1);
          assert.deepEqual(
            after.seqs,
            Array.from({ length: expectLast + more }, (_, i) => i + 1),
          );
          assert.deepEqual(after.frames, [...written.slice(0, expectLast), ...extra]);
        } finally {
          cleanup();
        }
      },
    ),
    { numRuns: 200, seed: SEED },
  );
});
