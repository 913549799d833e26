/**
 * Reads a CSV file as blocks of rows, with bounded memory whatever its size: gzip files (recognized by
 * their magic bytes, whatever their name) are read as they are, through zlib; rows are parsed by papaparse
 * one block at a time, each block cut at the last line break outside quotes. Every row knows its line, and
 * the SHA-256 of the file's bytes (as stored) is computed on the way, which is what the import ledger keys
 * on.
 */
import { createHash } from "node:crypto";
import { closeSync, createReadStream, openSync, readSync, statSync } from "node:fs";
import { pipeline, Transform } from "node:stream";
import { createGunzip } from "node:zlib";
import Papa from "papaparse";
import { TickringError } from "../../errors.js";

/** Rows of one block, and the line of the first. */
export interface RowBlock {
  rows: string[][];
  /** The 1-based line of rows[0]; a row follows the one before on the next line (no quoted line breaks). */
  firstLine: number;
  /** Bytes of the file read so far (as stored: compressed for gzip), for progress. */
  bytesRead: number;
}

/** Bytes read per block. */
const BLOCK_BYTES = 1 << 20;

/** The file's size and whether it is gzip. */
export function describeFile(path: string): { bytes: number; gzip: boolean } {
  const fd = openSync(path, "r");
  try {
    const magic = Buffer.alloc(2);
    const n = readSync(fd, magic, 0, 2, 0);
    return { bytes: statSync(path).size, gzip: n === 2 && magic[0] === 0x1f && magic[1] === 0x8b };
  } finally {
    closeSync(fd);
  }
}

/**
 * The rows of `path`, a block at a time. When the iteration ends, `hash.digest` is the file's SHA-256 (hex)
 * if the whole file was read.
 */
export async function* csvBlocks(path: string, hash: { digest?: string } = {}): AsyncGenerator<RowBlock> {
  const { gzip } = describeFile(path);
  const sha = createHash("sha256");
  let bytesRead = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sha.update(chunk);
      bytesRead += chunk.length;
      done(null, chunk);
    },
  });
  const source = createReadStream(path, { highWaterMark: BLOCK_BYTES });
  // pipeline() ends (and fails) every stage together; its last stage is read below.
  const text = gzip
    ? pipeline(source, hashing, createGunzip(), () => {})
    : pipeline(source, hashing, () => {});
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let carry = "";
  let line = 1;
  const block = (s: string): RowBlock => {
    const first = line;
    const rows = s === "" ? [] : (Papa.parse<string[]>(s, { skipEmptyLines: false }).data as string[][]);
    line += rows.length;
    return { rows, firstLine: first, bytesRead };
  };
  try {
    for await (const chunk of text) {
      const s = carry + utf8(decoder, chunk as Buffer, path);
      const cut = lastBreakOutsideQuotes(s);
      carry = s.slice(cut);
      if (cut > 0) yield block(s.slice(0, cut - 1).replace(/\r$/, ""));
    }
    const rest = (carry + utf8(decoder, undefined, path)).replace(/\r?\n$/, "");
    if (rest !== "") yield block(rest);
    hash.digest = sha.digest("hex");
  } finally {
    text.destroy();
  }
}

function utf8(decoder: InstanceType<typeof TextDecoder>, chunk: Buffer | undefined, path: string): string {
  try {
    return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
  } catch (err) {
    throw new TickringError("BAD_TICK", `${path}: not UTF-8 text`, { cause: err });
  }
}

/** The SHA-256 (hex) of the file's bytes as stored. */
export async function fileSha256(path: string): Promise<string> {
  const sha = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: BLOCK_BYTES }))
    sha.update(chunk as Buffer);
  return sha.digest("hex");
}

/** The index after the last line break of `s` that is not inside a quoted field; 0 when none is. */
function lastBreakOutsideQuotes(s: string): number {
  let quotes = 0;
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) quotes++;
  if (quotes === 0) return s.lastIndexOf("\n") + 1;
  // Counting back: a break with an even number of quotes before it is outside any quoted field.
  let after = 0;
  for (let j = s.length - 1; j >= 0; j--) {
    const c = s.charCodeAt(j);
    if (c === 34) after++;
    else if (c === 10 && (quotes - after) % 2 === 0) return j + 1;
  }
  return 0;
}
