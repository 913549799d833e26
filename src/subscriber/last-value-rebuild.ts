/**
 * After a restart the ring is empty, so a worker's last-value cache starts from the WAL: the last frames
 * up to where the ring takes over. A symbol quiet for longer gets its last value with its next tick.
 */
import { frameLength, frameSymbolKey } from "../frame/codec.js";
import { openWalReader, StorageError, type WalReader } from "../storage/index.js";
import type { LastValueCache } from "./last-value-cache.js";

/** Frames read back from the WAL at start to refill the last-value cache. */
export const LVC_REBUILD_FRAMES = 200_000;

/** What {@link rebuildLastValues} did. */
export interface RebuildReport {
  /** Frames read into the cache. */
  frames: number;
  /** Seqs skipped because their records could not be read (a damaged older segment). */
  skipped: number;
  /**
   * Why it stopped early, when it did: retention took the range, or a record could not be read (a corrupt
   * older segment). The cache then holds what was read; starting without every last value beats not
   * starting at all.
   */
  stoppedBy?: StorageError;
}

/** Reads seqs `toSeq − frames + 1 … toSeq` from the WAL in `walDir` into `lvc`. */
export function rebuildLastValues(
  lvc: LastValueCache,
  walDir: string,
  toSeq: number,
  frames = LVC_REBUILD_FRAMES,
): RebuildReport {
  const report: RebuildReport = { frames: 0, skipped: 0 };
  if (toSeq < 1) return report;
  let wal: WalReader | undefined;
  try {
    // A record that cannot be read is skipped (and counted): the symbols after it still get their values.
    wal = openWalReader(walDir, Math.max(1, toSeq - frames + 1), {
      bufferBytes: 4 << 20,
      onGap: (from, to) => {
        report.skipped += to - from + 1;
      },
    });
    for (let b = wal.nextSync(toSeq); b !== null; b = wal.nextSync(toSeq)) {
      for (let i = 0; i < b.count; i++) {
        const off = b.offsets[i];
        lvc.update(frameSymbolKey(b.bytes, off), b.firstSeq + i, b.bytes, off, frameLength(b.bytes, off));
      }
      report.frames += b.count;
    }
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    report.stoppedBy = err;
  } finally {
    wal?.close();
  }
  return report;
}
