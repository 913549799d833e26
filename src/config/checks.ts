/**
 * Generic checks for typed options objects (the embedding API's `{ dir, segmentBytes, … }`), shared by the
 * components that validate their own options once, at construction. Text from the CLI or the environment goes
 * through `resolveServeOptions` (src/config/options.ts), which parses before it checks.
 */

/**
 * The error class a component throws for a bad option, built from the option's name, the value given, and
 * what it must be (storage passes `StorageOptionError`, code `ERR_STORAGE_OPTION`).
 */
export type BadOptionError = new (option: string, value: unknown, expectation: string) => Error;

/** Throws a `BadOption(name, value, …)` unless `value` is an integer in [min, max]. */
export function checkInt(
  name: string,
  value: unknown,
  min: number,
  max: number,
  BadOption: BadOptionError,
): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new BadOption(name, value, `an integer in [${min}, ${max}]`);
  }
}

/** Drops keys whose value is `undefined`, so that spreading the rest over defaults keeps those defaults. */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
