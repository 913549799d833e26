/**
 * CPU time of another process (a server under test), from `/proc/<pid>/stat`: user + system time of
 * all its threads. Linux only; elsewhere the benchmarks report no server CPU rather than guess.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** Seconds of CPU `pid` has used so far (utime + stime), or null when /proc cannot tell. */
export function cpuSeconds(pid: number): number | null {
  try {
    ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Fields after "(comm) ": state is field 3, utime 14, stime 15 (comm may contain spaces).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return null;
  }
}

/** Starts measuring the processes `pids`; `stop()` returns each one's cores used since (null: unknown). */
export function cpuMeter(pids: number[]): { stop(): (number | null)[] } {
  const t0 = performance.now();
  const c0 = pids.map(cpuSeconds);
  return {
    stop: () => {
      const seconds = (performance.now() - t0) / 1000;
      return pids.map((pid, i) => {
        const c = cpuSeconds(pid);
        const before = c0[i];
        return c === null || before === null ? null : Math.round(((c - before) / seconds) * 100) / 100;
      });
    },
  };
}
