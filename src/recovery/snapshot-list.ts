/** Lists the snapshots of a data directory and prunes the oldest (for `--snapshot-keep`). */
import { existsSync, readdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { existingDataDir } from "../storage/index.js";
import { MANIFEST_FILE, type Manifest } from "./snapshot-layout.js";
import { readManifest } from "./snapshot-verify.js";

/** One complete snapshot found on disk. */
export interface SnapshotEntry {
  path: string;
  manifest: Manifest;
  /** Sum of the manifest's file sizes. */
  bytes: number;
}

/**
 * The complete snapshots in `<data>/snapshots/`, oldest first. Directories without a manifest (a create in
 * progress or interrupted: `*.partial`) are not snapshots and are left out. Throws `ERR_DATA_MISSING` when
 * `data` is not a data directory (a typo must not list "no snapshots").
 */
export async function listSnapshots(data: string): Promise<SnapshotEntry[]> {
  const dir = existingDataDir(data).snapshotsDir;
  if (!existsSync(dir)) return [];
  const out: SnapshotEntry[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!existsSync(join(path, MANIFEST_FILE))) continue;
    const manifest = await readManifest(path);
    out.push({ path, manifest, bytes: manifest.files.reduce((n, f) => n + f.bytes, 0) });
  }
  return out.sort(
    (a, b) => a.manifest.createdAt.localeCompare(b.manifest.createdAt) || a.manifest.seq - b.manifest.seq,
  );
}

/** Deletes all but the newest `keep` snapshots of `<data>/snapshots/`; returns the paths removed. */
export async function pruneSnapshots(data: string, keep: number): Promise<string[]> {
  const all = await listSnapshots(data);
  const removed = all.slice(0, Math.max(0, all.length - keep)).map((s) => s.path);
  for (const path of removed) await rm(path, { recursive: true, force: true });
  return removed;
}
