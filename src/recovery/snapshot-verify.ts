/**
 * Verifies a snapshot: the manifest parses, every listed file exists with its size and CRC32C, no file is
 * unlisted, the WAL's last segment ends exactly at the manifest's seq, and the store opens with the manifest's
 * checkpoint. Opening LevelDB rewrites its MANIFEST and log, so the store is opened on a scratch copy
 * (tables hard-linked: LevelDB never rewrites a table in place), never in the snapshot itself.
 */
import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { listSegments, STORE_DIR, WAL_DEFAULTS, WAL_DIR } from "../storage/index.js";
import { scanSegmentFile } from "../storage/wal/scan.js";
import { RecoveryError, SnapshotFileError } from "./errors.js";
import { checksumFile } from "./file-copy.js";
import { ByteProgress, type OnProgress } from "./progress.js";
import { crcHex, MANIFEST_FILE, type Manifest, parseManifest } from "./snapshot-layout.js";
import { readCheckpoint, scratchStoreCopy } from "./store-copy.js";

/** What a successful {@link verifySnapshot} checked. */
export interface VerifyReport {
  manifest: Manifest;
  files: number;
  bytes: number;
}

/**
 * Reads and validates `<path>/manifest.json`. A `path` that does not exist is `ERR_DATA_MISSING` (a usage
 * error: exit 2), one without a readable manifest `ERR_SNAPSHOT_MANIFEST`.
 */
export async function readManifest(path: string): Promise<Manifest> {
  if (!existsSync(path)) throw new RecoveryError("ERR_DATA_MISSING", path, `${path} does not exist`);
  const file = join(path, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new RecoveryError(
      "ERR_SNAPSHOT_MANIFEST",
      file,
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`,
      {
        cause: err,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RecoveryError("ERR_SNAPSHOT_MANIFEST", file, `${file} is not JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseManifest(json, file);
}

/** Verifies the snapshot at `path`; throws the first {@link RecoveryError} found. */
export async function verifySnapshot(snapshot: string, onProgress?: OnProgress): Promise<VerifyReport> {
  // Resolved, so the scratch directory lands beside the snapshot even for a path with a trailing slash.
  const path = resolve(snapshot);
  const manifest = await readManifest(path);
  const total = manifest.files.reduce((n, f) => n + f.bytes, 0);
  const progress = new ByteProgress(total, onProgress);
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const sub of [WAL_DIR, STORE_DIR]) {
    const dir = join(path, sub);
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      if (!listed.has(`${sub}/${name}`)) {
        throw new RecoveryError(
          "ERR_SNAPSHOT_MANIFEST",
          join(dir, name),
          `${join(dir, name)} is not in the manifest`,
        );
      }
    }
  }
  for (const f of manifest.files) {
    const file = join(path, f.path);
    if (!existsSync(file)) throw new SnapshotFileError("ERR_SNAPSHOT_MISSING_FILE", file, "the file", "none");
    const sum = await checksumFile(file, progress.add);
    if (sum.bytes !== f.bytes || crcHex(sum.crc) !== f.crc32c) {
      throw new SnapshotFileError(
        "ERR_SNAPSHOT_CHECKSUM",
        file,
        `${f.bytes} bytes crc32c ${f.crc32c}`,
        `${sum.bytes} bytes crc32c ${crcHex(sum.crc)}`,
      );
    }
  }
  checkWalEnd(join(path, WAL_DIR), manifest.seq);
  await checkStore(path, manifest.storeCheckpoint);
  progress.finish();
  return { manifest, files: manifest.files.length, bytes: total };
}

/** The last segment must hold only valid records and end at `seq` (checksums cannot tell a short copy). */
export function checkWalEnd(walDir: string, seq: number): void {
  const segments = listSegments(walDir);
  const last = segments[segments.length - 1];
  if (last === undefined) {
    if (seq !== 0) throw new RecoveryError("ERR_SNAPSHOT_MANIFEST", walDir, `no WAL segment, but seq=${seq}`);
    return;
  }
  const scan = scanSegmentFile(last.file, WAL_DEFAULTS.indexIntervalBytes);
  const lastSeq = last.firstSeq + scan.count - 1;
  if (scan.goodEnd !== scan.fileBytes || lastSeq !== seq) {
    throw new RecoveryError(
      "ERR_SNAPSHOT_MANIFEST",
      last.file,
      `${last.file} ends at seq=${lastSeq} (valid bytes ${scan.goodEnd} of ${scan.fileBytes}); the manifest says seq=${seq}`,
    );
  }
}

/** Opens a scratch copy of the snapshot's store and compares its checkpoint. */
async function checkStore(path: string, expected: number): Promise<void> {
  const from = join(path, STORE_DIR);
  const scratch = await scratchStoreCopy(from, path);
  try {
    let checkpoint: number;
    try {
      checkpoint = await readCheckpoint(scratch.dir);
    } catch (err) {
      throw new RecoveryError(
        "ERR_SNAPSHOT_STORE",
        from,
        `the store in ${from} does not open: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    if (checkpoint !== expected) {
      throw new RecoveryError(
        "ERR_SNAPSHOT_STORE",
        from,
        `the store in ${from} has checkpoint=${checkpoint}; the manifest says ${expected}`,
      );
    }
  } finally {
    await scratch.remove();
  }
}
