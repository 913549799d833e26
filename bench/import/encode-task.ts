/** bench/import's pool task: {@link encodeBlock} on a piscina thread, its frames moved back (no copy). */
import { Piscina } from "piscina";
import type { RowOptions } from "../../src/cli/import/row-ticks.js";
import { encodeBlock } from "./encode-block.js";

export default function encodeTask({ text, rows }: { text: string; rows: RowOptions }): Uint8Array {
  return Piscina.move(encodeBlock(text, rows).frames) as Uint8Array;
}
