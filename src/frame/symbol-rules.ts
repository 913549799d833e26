/**
 * What a symbol may be, wherever one comes in: JSON ticks, binary frames, the embedding API and feed
 * requests. A symbol is 1–{@link MAX_SYMBOL_BYTES} bytes of well-formed UTF-8 with nothing in it that
 * changes how text around it is shown: no control character (C0, DEL, C1, which covers NUL and the ESC
 * that starts an ANSI escape), no bidirectional formatting character (U+061C, U+200E/F, U+202A–U+202E,
 * U+2066–U+2069: "Trojan Source" reordering), no line or paragraph separator (U+2028/9). Symbols end up
 * in logs, terminals (`tickring replay`) and dashboards.
 *
 * Each check returns what is wrong as a phrase (a constant string, so a passing check allocates nothing),
 * or `undefined`; callers turn it into their own error code (BAD_TICK, BAD_FRAME, BAD_REQUEST).
 */

/** Longest symbol, in UTF-8 bytes. */
export const MAX_SYMBOL_BYTES = 64;

/** The rule, as error messages and docs state it. */
export const SYMBOL_RULE = `1–${MAX_SYMBOL_BYTES} bytes of printable UTF-8`;

const CONTROL = "contains a control character";
const BIDI = "contains a bidirectional formatting character";
const SEPARATOR = "contains a line or paragraph separator";
const NOT_UTF8 = "is not valid UTF-8";
const LONE_SURROGATE = "contains a lone surrogate (not valid Unicode)";

/** Why code point `cp` may not appear in a symbol, or undefined. */
function codePointProblem(cp: number): string | undefined {
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return CONTROL;
  if (cp < 0x61c) return undefined;
  if (
    cp === 0x61c ||
    cp === 0x200e ||
    cp === 0x200f ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069)
  ) {
    return BIDI;
  }
  if (cp === 0x2028 || cp === 0x2029) return SEPARATOR;
  return undefined;
}

/**
 * Why the text `s` is not printable (see the module doc), or undefined. Length is the caller's rule:
 * symbols count UTF-8 bytes ({@link symbolProblem}), ingest ids count characters.
 */
export function printableProblem(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0x20 && cp < 0x7f) continue;
    if (cp >= 0xd800 && cp <= 0xdfff) {
      const lo = s.charCodeAt(i + 1);
      if (cp > 0xdbff || !(lo >= 0xdc00 && lo <= 0xdfff)) return LONE_SURROGATE;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      i++;
    }
    const problem = codePointProblem(cp);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Why `s` is not a valid symbol, or undefined. */
export function symbolProblem(s: string): string | undefined {
  // UTF-16 units never outnumber UTF-8 bytes, so a long string fails before it is scanned.
  if (s.length === 0 || s.length > MAX_SYMBOL_BYTES) return `is ${s.length === 0 ? "empty" : "too long"}`;
  const problem = printableProblem(s);
  if (problem !== undefined) return problem;
  // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no count.
  if (s.length * 3 > MAX_SYMBOL_BYTES && Buffer.byteLength(s, "utf8") > MAX_SYMBOL_BYTES)
    return "is too long";
  return undefined;
}

/** Why the UTF-8 bytes `b[start…start+length)` are not a valid symbol, or undefined. */
export function symbolBytesProblem(b: Uint8Array, start: number, length: number): string | undefined {
  if (length === 0 || length > MAX_SYMBOL_BYTES) return `is ${length === 0 ? "empty" : "too long"}`;
  const end = start + length;
  for (let i = start; i < end;) {
    const b0 = b[i];
    let cp: number;
    let n: number;
    if (b0 < 0x80) {
      cp = b0;
      n = 1;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      cp = b0 & 0x1f;
      n = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      cp = b0 & 0x0f;
      n = 3;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      cp = b0 & 0x07;
      n = 4;
    } else {
      return NOT_UTF8;
    }
    if (i + n > end) return NOT_UTF8;
    for (let k = 1; k < n; k++) {
      const c = b[i + k];
      if ((c & 0xc0) !== 0x80) return NOT_UTF8;
      cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (
      (n === 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (n === 4 && (cp < 0x10000 || cp > 0x10ffff))
    ) {
      return NOT_UTF8;
    }
    const problem = codePointProblem(cp);
    if (problem !== undefined) return problem;
    i += n;
  }
  return undefined;
}
