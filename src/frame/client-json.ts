/**
 * JSON text from clients (ingest messages, feed requests), parsed with a nesting limit checked before
 * `JSON.parse` sees it. V8's parser copes with deep nesting, but everything that walks the result
 * recursively (JSON.stringify, String(), a validator) overflows the stack on `[[[[…` 100K deep, and
 * building those arrays costs memory for nothing: no request or tick is more than a few levels deep.
 */
import { isUtf8 } from "node:buffer";
import { TickringError } from "../errors.js";
import { escapeUnsafe } from "./preview.js";

/** Deepest nesting of arrays and objects accepted: ticks in an envelope with book levels need 5. */
export const MAX_JSON_DEPTH = 16;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Whether the JSON bytes `b` nest arrays and objects deeper than `max` (brackets inside strings do not
 * count). One pass, no allocation; malformed JSON is JSON.parse's to refuse. It reads bytes, not the
 * decoded string: twice as fast (bench/publisher, 200-tick messages: ≈ 25 µs per 21 KB with charCodeAt,
 * ≈ 13 µs over the bytes), and every byte of a multi-byte UTF-8 character is ≥ 0x80, so none is
 * mistaken for a bracket or a quote.
 */
export function nestsDeeperThan(b: Uint8Array, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === QUOTE) {
      // Skip the string: to its closing quote, stepping over escaped characters.
      for (i++; i < b.length; i++) {
        const s = b[i];
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/**
 * Parses client JSON from its UTF-8 bytes: BAD_JSON when they are not UTF-8, not JSON, or nest deeper
 * than {@link MAX_JSON_DEPTH}. `what` names the text in messages ("message", "request").
 */
export function parseClientJson(bytes: Uint8Array, what: string): unknown {
  if (!isUtf8(bytes)) throw new TickringError("BAD_JSON", `${what} is not UTF-8 text`);
  if (nestsDeeperThan(bytes, MAX_JSON_DEPTH)) {
    throw new TickringError(
      "BAD_JSON",
      `${what} nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch (err) {
    // V8's message quotes at most a few characters of the text; escape them all the same.
    throw new TickringError("BAD_JSON", `${what} is not JSON: ${escapeUnsafe((err as Error).message)}`);
  }
}
