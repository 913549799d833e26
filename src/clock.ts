/**
 * Wall-clock nanoseconds since the Unix epoch with the resolution of `process.hrtime`: the epoch offset
 * is read once, so the clock is monotonic within a process (NTP steps do not make ts_recv go backwards).
 * `process.hrtime` is one clock for every thread of a process, but each thread's `performance.timeOrigin`
 * differs slightly, so workers adopt the main thread's offset ({@link adoptClockOffset}) and release
 * delayed frames on exactly the clock that stamped ts_recv.
 */
let offset = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)) - process.hrtime.bigint();

/** Nanoseconds since the Unix epoch. */
export function nowNs(): bigint {
  return process.hrtime.bigint() + offset;
}

/** This thread's epoch − hrtime offset, to hand to other threads. */
export function clockOffsetNs(): bigint {
  return offset;
}

/** Uses another thread's offset, so both threads read the same clock. */
export function adoptClockOffset(ns: bigint): void {
  offset = ns;
}
