/**
 * Durations as operators write them: `500ms`, `2s`, `15m`, `1h`, `1d`, `1.5s`. The unit is required: a bare
 * `30` could be 30 ms or 30 s, and reading it as milliseconds once silently deleted history
 * (`--retain-wal 30`). Whether a unit-less `0` means "off" is the option's business, not this module's.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The units {@link parseDuration} reads, for messages. */
export const DURATION_UNITS = Object.keys(UNIT_MS);

/** Parses a duration with its unit into whole milliseconds; `undefined` when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (m === null) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

/** Formats milliseconds the way {@link parseDuration} reads them, choosing the largest exact unit. */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
