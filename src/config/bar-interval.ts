/**
 * Bar intervals as users write them (`1s`, `1m`, `5m`, `1h`, `1d`): the same durations as every option, and
 * a whole number of seconds — bars are bucketed in whole seconds, as Polygon's and Databento's aggregates
 * are. One rule for `--bars`, a subscription's `"bars"` and the HTTP `interval` and `bars` parameters.
 */
import { parseDuration } from "./duration.js";

/** The longest bar interval. */
export const MAX_BAR_INTERVAL_MS = 366 * 86_400_000;

/** What a bar interval must be, for messages. */
export const BAR_INTERVAL_RULE = "a whole number of seconds from 1s to 366d, like 1s, 1m, 5m, 1h or 1d";

/** The interval in ms, or undefined when `text` is not a bar interval ({@link BAR_INTERVAL_RULE}). */
export function parseBarInterval(text: string): number | undefined {
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1000 || ms % 1000 !== 0 || ms > MAX_BAR_INTERVAL_MS) return undefined;
  return ms;
}
