/**
 * Byte sizes as operators write them: a plain integer of bytes (`1048576`), or a number with a unit,
 * binary (`512KiB`, `1MiB`, `1GiB`, `1TiB`) or decimal (`500KB`, `1GB`, `1TB`), case-insensitive.
 * Unlike a duration, a bare number is unambiguous here: the options that take a size say so in their
 * name (`--retain-wal-bytes`).
 */

const UNIT_BYTES: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Parses a size into a whole number of bytes; `undefined` when the text is not one (or not whole bytes). */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(text);
  if (m === null) return undefined;
  const bytes = Number(m[1]) * UNIT_BYTES[(m[2] ?? "b").toLowerCase()];
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Formats bytes the way {@link parseByteSize} reads them: the largest exact binary unit, else bytes. */
export function formatByteSize(bytes: number): string {
  for (const unit of ["TiB", "GiB", "MiB", "KiB"]) {
    const size = UNIT_BYTES[unit.toLowerCase()];
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
