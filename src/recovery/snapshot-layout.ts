/**
 * Layout of a snapshot, the only place that knows its manifest format. Its wal/ and store/ are named as in a
 * data directory (src/storage/data-dir.ts), so a restore copies them across as they are.
 *
 * ```
 *  <snapshot>/                       one directory per snapshot (default: <data>/snapshots/<id>)
 *  ├── manifest.json                 written last, atomically: a directory without it is not a snapshot
 *  ├── wal/<first-seq>.log|.idx      WAL segments holding every seq up to `seq` and nothing after it
 *  └── store/                        a fresh LevelDB: a logical copy of the store at one instant
 * ```
 *
 * manifest.json (format version 1):
 * ```
 *  {
 *    "format": "tickring-snapshot",  fixed; tells a snapshot from any other JSON
 *    "version": 1,                   bumped on any incompatible change; readers refuse other versions
 *    "id": "20261123T054200123Z-s42",
 *    "seq": 42,                      highest seq in wal/ (0 when empty); a restored daemon continues at seq+1
 *    "storeCheckpoint": 40,          the store's checkpoint (≤ seq when taken online)
 *    "createdAt": "2026-11-23T05:42:00.123Z",
 *    "online": true,                 taken from a running daemon (else from a stopped data dir)
 *    "files": [ { "path": "wal/000000000001.log", "bytes": 123, "crc32c": "0a1b2c3d" }, … ]
 *  }
 * ```
 * Invariants: `files` lists every file under wal/ and store/ with its exact size and CRC32C (8 hex digits,
 * the same checksum as WAL records), paths relative and `/`-separated, never `..`.
 */
import { STORE_DIR, WAL_DIR } from "../storage/index.js";
import { RecoveryError } from "./errors.js";

export const MANIFEST_FILE = "manifest.json";
export const MANIFEST_FORMAT = "tickring-snapshot";
export const MANIFEST_VERSION = 1;
/** Suffix of a snapshot being written; renamed to its final name once complete. */
export const PARTIAL_SUFFIX = ".partial";

/** One file of a snapshot. */
export interface ManifestFile {
  /** Relative to the snapshot directory, `/`-separated. */
  path: string;
  bytes: number;
  /** CRC32C of the whole file, 8 lowercase hex digits. */
  crc32c: string;
}

/** The parsed manifest.json. */
export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  id: string;
  seq: number;
  storeCheckpoint: number;
  createdAt: string;
  online: boolean;
  files: ManifestFile[];
}

/** CRC32C as the manifest writes it. */
export function crcHex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, "0");
}

/** A snapshot id from its time and seq: sorts by time as text. */
export function snapshotId(at: Date, seq: number): string {
  return `${at.toISOString().replace(/[-:.]/g, "")}-s${seq}`;
}

/** Validates parsed JSON as a {@link Manifest}; throws `ERR_SNAPSHOT_MANIFEST` naming the bad field. */
export function parseManifest(json: unknown, file: string): Manifest {
  const bad = (what: string): never => {
    throw new RecoveryError("ERR_SNAPSHOT_MANIFEST", file, `${file}: ${what}`);
  };
  if (typeof json !== "object" || json === null) return bad("not a JSON object");
  const m = json as Record<string, unknown>;
  if (m.format !== MANIFEST_FORMAT) bad(`format=${String(m.format)}, expected ${MANIFEST_FORMAT}`);
  if (m.version !== MANIFEST_VERSION)
    bad(`version=${String(m.version)}; this build reads ${MANIFEST_VERSION}`);
  if (typeof m.id !== "string" || m.id === "") bad("id must be a non-empty string");
  for (const k of ["seq", "storeCheckpoint"]) {
    const v = m[k];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) bad(`${k}=${String(v)} is not a seq`);
  }
  if (typeof m.createdAt !== "string" || Number.isNaN(Date.parse(m.createdAt)))
    bad("createdAt is not a time");
  if (typeof m.online !== "boolean") bad("online must be a boolean");
  if (!Array.isArray(m.files)) return bad("files must be an array");
  for (const f of m.files as Record<string, unknown>[]) {
    const p = f?.path;
    if (typeof p !== "string" || !isSafeRelative(p))
      bad(`file path ${JSON.stringify(p)} is not a plain relative path`);
    if (typeof f.bytes !== "number" || !Number.isSafeInteger(f.bytes) || f.bytes < 0) bad(`${p}: bad bytes`);
    if (typeof f.crc32c !== "string" || !/^[0-9a-f]{8}$/.test(f.crc32c)) bad(`${p}: bad crc32c`);
  }
  return m as unknown as Manifest;
}

/** True for `wal/x.log`-like paths: relative, `/`-separated, under wal/ or store/, no `.` or `..` parts. */
function isSafeRelative(p: string): boolean {
  const parts = p.split("/");
  return (
    (parts[0] === WAL_DIR || parts[0] === STORE_DIR) &&
    parts.length >= 2 &&
    parts.every((s) => s !== "" && s !== "." && s !== "..")
  );
}
