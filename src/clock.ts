/**
 * Wall-clock nanoseconds since the Unix epoch with the resolution of `process.hrtime`: the epoch offset
 * is read once, so the clock is monotonic within a process (NTP steps do not make ts_recv go backwards).
 */
const hrBase = process.hrtime.bigint();
const epochBase = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

/** Nanoseconds since the Unix epoch. */
export function nowNs(): bigint {
  return epochBase + (process.hrtime.bigint() - hrBase);
}
