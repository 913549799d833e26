/**
 * The piscina side of bench/replay's "where do replay reads run" comparison: a pool thread reads the WAL
 * and streams each batch to the consuming thread over a MessagePort, its bytes copied into a transferable
 * buffer (the reader reuses its own).
 */
import type { MessagePort } from "node:worker_threads";
import { openWalReader } from "../../src/storage/index.js";

export interface ReadTask {
  walDir: string;
  from: number;
  port: MessagePort;
}

export default function readTask({ walDir, from, port }: ReadTask): number {
  const r = openWalReader(walDir, from, { bufferBytes: 1 << 20 });
  let frames = 0;
  for (let b = r.nextSync(); b !== null; b = r.nextSync()) {
    // A copy: Buffer#slice would be a view of the reader's buffer, which must not be transferred away.
    const bytes = new Uint8Array(b.bytes).buffer;
    const offsets = b.offsets.slice(0, b.count);
    port.postMessage({ bytes, offsets }, [bytes, offsets.buffer]);
    frames += b.count;
  }
  r.close();
  port.postMessage(null);
  port.close();
  return frames;
}
