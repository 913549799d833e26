/**
 * Short, safe quotes of untrusted values for error messages. An error never echoes a whole offending
 * request back (a 60 KB symbols array came back whole), never walks a value deep enough to overflow the
 * stack (JSON.stringify of a deeply nested array does), and never carries a raw control or bidirectional
 * character into a client's terminal or a log line.
 */

/** Characters of a string quoted at most. */
const MAX_QUOTED = 40;

/** Control, bidirectional-formatting and separator characters, as symbol-rules.ts refuses them. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `s` with every unsafe character written as a `\uXXXX` escape. */
export function escapeUnsafe(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Keys of an object named at most. */
const MAX_KEYS = 3;

/** `an object with "a", "b", "c" and more`: the first keys only, each cut short. */
function objectPreview(o: object): string {
  let keys = "";
  let n = 0;
  for (const k in o) {
    if (n === MAX_KEYS) return `an object with ${keys} and more`;
    keys += `${n === 0 ? "" : ", "}${escapeUnsafe(JSON.stringify(k.length > 20 ? `${k.slice(0, 20)}…` : k))}`;
    n++;
  }
  return n === 0 ? "an empty object" : `an object with ${keys}`;
}

/**
 * A short description of `v`: strings quoted (the first {@link MAX_QUOTED} characters, then `…`),
 * numbers, booleans and null as themselves, arrays by their length, objects by their first keys.
 */
export function preview(v: unknown): string {
  switch (typeof v) {
    case "string": {
      const cut = v.length > MAX_QUOTED;
      return `${escapeUnsafe(JSON.stringify(cut ? v.slice(0, MAX_QUOTED) : v))}${cut ? `… (${v.length} characters)` : ""}`;
    }
    case "number":
    case "boolean":
    case "bigint":
      return String(v);
    case "undefined":
      return "nothing";
    case "object":
      if (v === null) return "null";
      if (Array.isArray(v)) return `an array of ${v.length} item${v.length === 1 ? "" : "s"}`;
      return objectPreview(v);
    default:
      return `a ${typeof v}`;
  }
}
