/** Reading a data directory's WAL directly: the brute-force answer replays and exports must equal. */
import { join } from "node:path";
import { frameLength } from "../../src/frame/codec.js";
import { openWalReader } from "../../src/storage/index.js";

/** Every frame in the WAL of the data directory `data`, copied (none when it has no WAL yet). */
export function walFrames(data: string): Buffer[] {
  let r;
  try {
    r = openWalReader(join(data, "wal"), 1);
  } catch {
    return [];
  }
  const out: Buffer[] = [];
  for (let b = r.nextSync(); b !== null; b = r.nextSync()) {
    for (let i = 0; i < b.count; i++) {
      const off = b.offsets[i];
      out.push(Buffer.from(b.bytes.subarray(off, off + frameLength(b.bytes, off))));
    }
  }
  r.close();
  return out;
}
