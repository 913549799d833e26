/**
 * Creates a snapshot: the WAL up to one seq, a logical copy of the store, and a manifest with every file's
 * size and CRC32C (layout: {@link ./snapshot-layout.ts}).
 *
 * Consistency without stopping ingest: in ONE synchronous step on the WAL's thread the store's LevelDB
 * snapshot is taken and the WAL's segment list read (sealed segments and the active one's size, which
 * matches `writtenSeq`); sealed segments are hard-linked and the active one opened in that same step, so
 * retention cannot remove a file before we hold it. Everything after that is asynchronous: the active
 * segment's prefix is copied, the store copied from its LevelDB snapshot. The store's checkpoint at that
 * instant is ≤ the durable seq ≤ the snapshot seq, so the snapshot never has a store ahead of its WAL.
 *
 * The snapshot is written under `<path>.partial` and renamed once its manifest is durable: a directory with
 * the final name is always complete.
 */
import { closeSync, existsSync, linkSync, openSync, readdirSync, statSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import {
  DiskFullError,
  existingDataDir,
  freeBytes,
  listHoles,
  listSegments,
  makeDir,
  openDataDir,
  STORE_DIR,
  WAL_DEFAULTS,
  WAL_DIR,
  type WalSegmentInfo,
} from "../storage/index.js";
import { indexPathOf } from "../storage/wal/files.js";
import { scanSegmentFile } from "../storage/wal/scan.js";
import { RecoveryError } from "./errors.js";
import { checksumFile, copyFile, syncDir } from "./file-copy.js";
import { ByteProgress, type OnProgress } from "./progress.js";
import {
  crcHex,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type Manifest,
  type ManifestFile,
  PARTIAL_SUFFIX,
  snapshotId,
} from "./snapshot-layout.js";
import { createEmptyStore, StoreCopySource } from "./store-copy.js";

/** The running daemon's WAL, for an online snapshot. */
export interface LiveWal {
  /** Sealed segments and the active one, consistent at the instant of the call (`Wal.segments()`). */
  segments(): WalSegmentInfo[];
}

/** Options of {@link createSnapshot}. */
export interface CreateSnapshotOptions {
  /** The data directory (holding wal/ and store/). */
  data: string;
  /** Where the snapshot goes; must not exist. @default `<data>/snapshots/<id>` */
  out?: string;
  /**
   * Set when a daemon in this process holds `data` (online snapshot); absent = offline: the data directory
   * is locked for the duration (`ERR_DATA_LOCKED` naming the pid of a daemon that holds it).
   */
  liveWal?: LiveWal;
  onProgress?: OnProgress;
}

/** What {@link createSnapshot} made. */
export interface SnapshotResult {
  id: string;
  seq: number;
  path: string;
  manifest: Manifest;
}

/** A WAL file to bring into the snapshot: already linked, or to copy from an fd opened in the frozen step. */
type WalFile = { name: string; linked: true } | { name: string; linked: false; fd: number; bytes: number };

let partialCounter = 0;

/** Creates a snapshot of `options.data`; see the module doc for how it stays consistent. */
export async function createSnapshot(options: CreateSnapshotOptions): Promise<SnapshotResult> {
  const { data, liveWal } = options;
  const { walDir, storeDir, snapshotsDir } = existingDataDir(data);
  if (options.out !== undefined && existsSync(options.out)) {
    throw new RecoveryError("ERR_SNAPSHOT_EXISTS", options.out, `${options.out} already exists`);
  }
  const parent = options.out !== undefined ? dirname(options.out) : snapshotsDir;
  const partial = join(
    parent,
    `${options.out !== undefined ? basename(options.out) : `.new-${process.pid}-${++partialCounter}`}${PARTIAL_SUFFIX}`,
  );
  // Offline, nothing else may write the directory while its WAL is frozen and its store copied.
  const held = liveWal === undefined ? await openDataDir(data) : null;
  const walFiles: WalFile[] = [];
  let store: StoreCopySource | null = null;
  try {
    store = existsSync(storeDir) ? await StoreCopySource.open(storeDir, liveWal !== undefined) : null;
    checkFreeSpace(data, parent, walDir, storeDir, liveWal);
    makeDir(join(partial, WAL_DIR));
    // The frozen step: synchronous from here to the end of freezeWal, so the daemon appends nothing between.
    store?.freeze();
    const createdAt = new Date();
    const seq = freezeWal(walDir, join(partial, WAL_DIR), liveWal, walFiles);
    const id = snapshotId(createdAt, seq);
    const path = options.out ?? join(parent, id);
    if (existsSync(path)) throw new RecoveryError("ERR_SNAPSHOT_EXISTS", path, `${path} already exists`);

    const walBytes = walFiles.reduce(
      (n, f) => n + (f.linked ? statSync(join(partial, WAL_DIR, f.name)).size : f.bytes),
      0,
    );
    // Estimate: the WAL read once; the store copied (≈ its size on disk) and then checksummed.
    const progress = new ByteProgress(walBytes + 2 * dirBytes(storeDir), options.onProgress);
    const files: ManifestFile[] = [];
    for (const f of walFiles) {
      const to = join(partial, WAL_DIR, f.name);
      const sum = f.linked
        ? await checksumFile(to, progress.add)
        : await copyFile(f.fd, to, progress.add, f.bytes);
      files.push({ path: `${WAL_DIR}/${f.name}`, bytes: sum.bytes, crc32c: crcHex(sum.crc) });
    }
    const storeCheckpoint =
      store === null
        ? await createEmptyStore(join(partial, STORE_DIR))
        : await store.copyTo(join(partial, STORE_DIR), progress.add);
    for (const name of readdirSync(join(partial, STORE_DIR)).sort()) {
      const sum = await checksumFile(join(partial, STORE_DIR, name), progress.add);
      files.push({ path: `${STORE_DIR}/${name}`, bytes: sum.bytes, crc32c: crcHex(sum.crc) });
    }
    progress.finish();
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      id,
      seq,
      storeCheckpoint,
      createdAt: createdAt.toISOString(),
      online: liveWal !== undefined,
      files,
    };
    await writeFile(join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { flush: true });
    await syncDir(join(partial, WAL_DIR));
    await syncDir(join(partial, STORE_DIR));
    await syncDir(partial);
    await rename(partial, path);
    await syncDir(parent);
    return { id, seq, path, manifest };
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    throw err;
  } finally {
    for (const f of walFiles) if (!f.linked) closeSync(f.fd);
    await store?.close();
    held?.release();
  }
}

/**
 * Synchronously takes hold of the WAL files up to the snapshot seq: hard-links sealed segments (and their
 * sparse indexes, and the records of holes) into `toDir`, opens the last segment for a prefix copy. Returns
 * the snapshot seq.
 * Online, the segment list comes from the live WAL; offline, from the directory, the last segment scanned
 * to its last valid record (a torn tail is left out, as `Wal.open` would cut it).
 */
function freezeWal(walDir: string, toDir: string, live: LiveWal | undefined, out: WalFile[]): number {
  let segments: { file: string; lastSeq: number; bytes: number; active: boolean }[];
  if (live !== undefined) {
    segments = live.segments();
  } else {
    const found = listSegments(walDir);
    segments = found.map((s, i) => {
      if (i < found.length - 1)
        return { file: s.file, lastSeq: found[i + 1].firstSeq - 1, bytes: 0, active: false };
      const scan = scanSegmentFile(s.file, WAL_DEFAULTS.indexIntervalBytes);
      return { file: s.file, lastSeq: s.firstSeq + scan.count - 1, bytes: scan.goodEnd, active: true };
    });
  }
  for (const s of segments) {
    const name = basename(s.file);
    if (s.active) {
      out.push({ name, linked: false, fd: openSync(s.file, "r"), bytes: s.bytes });
      continue;
    }
    if (!tryLink(s.file, join(toDir, name))) {
      out.push({ name, linked: false, fd: openSync(s.file, "r"), bytes: statSync(s.file).size });
      continue;
    }
    out.push({ name, linked: true });
    const idx = indexPathOf(s.file);
    const idxName = basename(idx);
    if (existsSync(idx) && tryLink(idx, join(toDir, idxName))) out.push({ name: idxName, linked: true });
  }
  // Hole records (written once, never changed) go too: without them the restored WAL would have a gap.
  for (const h of listHoles(walDir)) {
    const name = basename(h.file);
    if (tryLink(h.file, join(toDir, name))) out.push({ name, linked: true });
    else out.push({ name, linked: false, fd: openSync(h.file, "r"), bytes: statSync(h.file).size });
  }
  return segments.length === 0 ? 0 : segments[segments.length - 1].lastSeq;
}

/** Hard-links; false when the snapshot is on another file system (the caller copies instead). */
function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EXDEV" || code === "EPERM") return false;
    throw err;
  }
}

/**
 * Refuses with `DISK_FULL`, before anything is written, when the file system `parent` is on has less free
 * space than the snapshot will take there: the store's size (its logical copy is about as large) and the
 * WAL bytes to copy — only the active segment when sealed ones can be hard-linked (same file system), all
 * of them otherwise — plus a margin for LevelDB's own files and the manifest.
 */
function checkFreeSpace(
  data: string,
  parent: string,
  walDir: string,
  storeDir: string,
  live: LiveWal | undefined,
): void {
  const existing = nearestExisting(parent);
  const segments = live?.segments() ?? listSegments(walDir).map((s) => ({ file: s.file, active: false }));
  const sameFs = existsSync(walDir) && statSync(walDir).dev === statSync(existing).dev;
  let walBytes = 0;
  segments.forEach((s, i) => {
    if (!sameFs || i === segments.length - 1)
      walBytes += statSync(s.file, { throwIfNoEntry: false })?.size ?? 0;
  });
  const needed = walBytes + dirBytes(storeDir) + SNAPSHOT_MARGIN_BYTES;
  const free = freeBytes(existing);
  if (free < needed) throw new DiskFullError(existing, needed, free, `a snapshot of ${data}`);
}

/** Room kept beyond the estimate: LevelDB's log and MANIFEST in the copy, the manifest, rounding. */
const SNAPSHOT_MARGIN_BYTES = 4 * 1024 * 1024;

/** `path` itself or its nearest existing ancestor (a snapshot's parent is created on the way). */
function nearestExisting(path: string): string {
  let p = resolve(path);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

/** Bytes of the files directly in `dir`, for a progress estimate (a live store may delete files meanwhile). */
function dirBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce(
    (n, name) => n + (statSync(join(dir, name), { throwIfNoEntry: false })?.size ?? 0),
    0,
  );
}
