/**
 * Carries out a {@link WalRepairPlan}: the daemon restores at start what the store can give back, and
 * `tickring wal repair --truncate-at-corruption` also gives up what nothing holds.
 *
 * The last segment is rebuilt into `<segment>.repair` beside it — its valid prefix, then every seq at stake
 * in order: intact records copied from the old file, the store's frames written as records — checked
 * (a whole-file scan must find exactly the expected records), fdatasynced, and renamed over the old one: at
 * every moment the segment is the old file or the complete new one. A store frame goes in only if it is the
 * record the damaged bytes still show: the damaged record's CRC32C matches it, or its frame bytes do (the bad
 * byte was in the header), or the bytes there are zeros (a page never written).
 *
 * Giving up (truncating): the rebuilt segment stops before the first seq nothing holds; that seq up to the
 * highest seq ever handed out is recorded as a hole (src/storage/wal/holes.ts), and an empty segment is
 * started after it, so the writer's next seq is above every seq acked.
 */
import { closeSync, fdatasyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { crc32c } from "@node-rs/crc32";
import { frameLength, frameSeq } from "../frame/codec.js";
import { dataDirLayout, segmentPath, StorageError, type Store, syncDirSync } from "../storage/index.js";
import type { IntactRun } from "../storage/wal/damage.js";
import { writeHole } from "../storage/wal/holes.js";
import { RECORD_HEADER_LENGTH, recordLength } from "../storage/wal/record-layout.js";
import { scanSegmentFile } from "../storage/wal/scan.js";
import { WalDamageError, type WalRepairPlan } from "./wal-repair-plan.js";

/** What {@link applyWalRepair} did. */
export interface WalRepairResult {
  /** The segment rewritten, if one was. */
  rebuilt: string | null;
  /** Seq ranges put back from the store. */
  fromStore: [number, number][];
  /** Seqs given up for good (recorded as a hole), if any. */
  gaveUp: [number, number] | null;
  /** The WAL's last seq now: the writer continues after it. */
  lastSeq: number;
}

/**
 * Applies `plan`: `restore` rebuilds the segment; `refuse` throws {@link WalDamageError} unless
 * `truncateAtCorruption`, which restores what can be and gives up the rest; `none` and `cut` change nothing
 * here (the WAL's open cuts a torn tail).
 */
export async function applyWalRepair(
  plan: WalRepairPlan,
  store: Store,
  options: { truncateAtCorruption?: boolean } = {},
): Promise<WalRepairResult> {
  const result: WalRepairResult = { rebuilt: null, fromStore: [], gaveUp: null, lastSeq: plan.validSeq };
  if (plan.action === "none" || plan.action === "cut") return result;
  if (plan.action === "refuse" && options.truncateAtCorruption !== true) throw new WalDamageError(plan);
  const until = plan.missing === null ? plan.highSeq : plan.missing[0] - 1;
  result.fromStore = plan.fromStore
    .filter(([a]) => a <= until)
    .map(([a, b]): [number, number] => [a, Math.min(b, until)]);
  if (until > plan.validSeq || plan.reason !== null) {
    result.rebuilt = await rebuildSegment(plan, store, until);
  }
  result.lastSeq = until;
  if (plan.missing !== null) {
    const { walDir } = dataDirLayout(plan.data);
    writeHole(walDir, plan.missing[0], plan.highSeq);
    createEmptySegment(segmentPath(walDir, plan.highSeq + 1), walDir);
    result.gaveUp = [plan.missing[0], plan.highSeq];
    result.lastSeq = plan.highSeq;
  }
  return result;
}

const OUT_BYTES = 1 << 20;

/** Writes records to a file sequentially through one buffer. */
class RecordSink {
  private readonly buf = Buffer.allocUnsafe(OUT_BYTES);
  private used = 0;
  /** Bytes written so far (buffered ones included). */
  pos = 0;

  constructor(private readonly fd: number) {}

  bytes(src: Uint8Array): void {
    if (this.used + src.length > this.buf.length) this.flush();
    if (src.length > this.buf.length) {
      writeAll(this.fd, src, this.pos);
    } else {
      this.buf.set(src, this.used);
      this.used += src.length;
    }
    this.pos += src.length;
  }

  record(frame: Uint8Array): void {
    const header = Buffer.allocUnsafe(RECORD_HEADER_LENGTH);
    header.writeUInt32LE(frame.length, 0);
    header.writeUInt32LE(crc32c(frame), 4);
    this.bytes(header);
    this.bytes(frame);
  }

  flush(): void {
    if (this.used === 0) return;
    writeAll(this.fd, this.buf.subarray(0, this.used), this.pos - this.used);
    this.used = 0;
  }
}

/** Builds the repaired segment (see the module doc) holding seqs up to `until`; returns its path. */
async function rebuildSegment(plan: WalRepairPlan, store: Store, until: number): Promise<string> {
  const { walDir } = dataDirLayout(plan.data);
  const file = plan.file ?? segmentPath(walDir, plan.segmentFirstSeq);
  const tmp = `${file}.repair`;
  const src = plan.file === null ? -1 : openSync(plan.file, "r");
  const out = openSync(tmp, "w");
  try {
    const sink = new RecordSink(out);
    if (src >= 0) copyBytes(src, 0, plan.offset, sink);
    let seq = plan.validSeq + 1;
    let run = 0;
    while (seq <= until) {
      const r: IntactRun | undefined = plan.intact[run];
      if (r !== undefined && r.firstSeq === seq) {
        if (sink.pos !== r.offset) {
          throw new StorageError(
            "ERR_WAL_CORRUPT",
            `the store's frames before seq ${seq} do not fill the damaged bytes of ${file} exactly ` +
              `(they end at offset ${sink.pos}, the intact record of seq ${seq} is at ${r.offset}): not restored`,
          );
        }
        const count = Math.min(r.count, until - r.firstSeq + 1);
        copyRecords(src, r.offset, count, sink);
        seq += count;
        run++;
        continue;
      }
      const to = Math.min(until, (r?.firstSeq ?? Number.MAX_SAFE_INTEGER) - 1);
      for await (const b of store.readBySeq(seq, to)) {
        for (let i = 0; i < b.count; i++, seq++) {
          const o = b.offsets[i];
          const frame = b.bytes.subarray(o, o + frameLength(b.bytes, o));
          if (b.firstSeq + i !== seq || frameSeq(frame, 0) !== seq) {
            throw new StorageError("ERR_WAL_CORRUPT", `the store has no frame of seq ${seq}: not restored`);
          }
          if (src >= 0) checkAgainstDamage(src, plan, sink.pos, frame, seq);
          sink.record(frame);
        }
      }
      if (seq <= to)
        throw new StorageError("ERR_WAL_CORRUPT", `the store has no frame of seq ${seq}: not restored`);
    }
    sink.flush();
    fdatasyncSync(out);
  } catch (err) {
    closeSync(out);
    unlinkSync(tmp);
    throw err;
  } finally {
    if (src >= 0) closeSync(src);
  }
  closeSync(out);
  const check = scanSegmentFile(tmp, 256 * 1024);
  const expected = until - plan.segmentFirstSeq + 1;
  if (check.goodEnd !== check.fileBytes || check.count !== expected) {
    unlinkSync(tmp);
    throw new StorageError(
      "ERR_WAL_CORRUPT",
      `the rebuilt ${file} holds ${check.count} valid records where ${expected} were written: not restored`,
    );
  }
  renameSync(tmp, file);
  syncDirSync(walDir);
  return file;
}

/**
 * Throws unless `frame` (seq `seq`, going to offset `at`) is the record the old file's bytes at `at` still
 * show (see the module doc). Nothing to compare past the old file's end.
 */
function checkAgainstDamage(
  src: number,
  plan: WalRepairPlan,
  at: number,
  frame: Uint8Array,
  seq: number,
): void {
  const end = Math.min(plan.fileBytes, at + recordLength(frame.length));
  if (at + RECORD_HEADER_LENGTH > end) return;
  const old = Buffer.allocUnsafe(end - at);
  readAll(src, old, at);
  if (old.readUInt32LE(4) === crc32c(frame)) return;
  const body = old.subarray(RECORD_HEADER_LENGTH);
  if (Buffer.compare(body, frame.subarray(0, body.length)) === 0 && body.length > 0) return;
  if (old.every((b) => b === 0)) return;
  throw new StorageError(
    "ERR_WAL_CORRUPT",
    `the store's frame of seq ${seq} is not the damaged record at offset ${at} of ${plan.file} (neither its ` +
      `CRC32C nor its bytes match): not restored`,
  );
}

/** Copies `count` whole records starting at `from` in `src` (lengths read from their headers). */
function copyRecords(src: number, from: number, count: number, sink: RecordSink): void {
  const header = Buffer.allocUnsafe(RECORD_HEADER_LENGTH);
  let end = from;
  for (let i = 0; i < count; i++) {
    readAll(src, header, end);
    end += recordLength(header.readUInt32LE(0));
  }
  copyBytes(src, from, end, sink);
}

/** Copies bytes [from, to) of `src` into the sink, in chunks. */
function copyBytes(src: number, from: number, to: number, sink: RecordSink): void {
  const chunk = Buffer.allocUnsafe(OUT_BYTES);
  for (let p = from; p < to;) {
    const n = readSync(src, chunk, 0, Math.min(chunk.length, to - p), p);
    if (n === 0) throw new StorageError("ERR_WAL_CORRUPT", `unexpected end of a WAL segment at offset ${p}`);
    sink.bytes(chunk.subarray(0, n));
    p += n;
  }
}

function readAll(fd: number, buf: Buffer, position: number): void {
  for (let done = 0; done < buf.length;) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0)
      throw new StorageError(
        "ERR_WAL_CORRUPT",
        `unexpected end of a WAL segment at offset ${position + done}`,
      );
    done += n;
  }
}

function writeAll(fd: number, buf: Uint8Array, position: number): void {
  for (let done = 0; done < buf.length;) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

/** Starts the segment after a hole: empty, so the writer continues in it at its first seq. */
function createEmptySegment(file: string, walDir: string): void {
  closeSync(openSync(file, "w"));
  syncDirSync(walDir);
}
