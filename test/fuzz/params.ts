/**
 * Run bounds of the fuzz targets. The suite runs each target a bounded number of times so it stays fast;
 * fast-check prints the seed and path of a failure, and `FUZZ_SEED=<seed>` replays it (`FUZZ_RUNS=<n>`
 * runs longer, e.g. overnight).
 */
import type fc from "fast-check";

export function fuzzParams<T>(numRuns: number): fc.Parameters<T> {
  const seed = process.env.FUZZ_SEED;
  const runs = process.env.FUZZ_RUNS;
  return {
    numRuns: runs === undefined ? numRuns : Number(runs),
    // node:test prints only the message: put the failing assertion in it.
    includeErrorInReport: true,
    ...(seed === undefined ? {} : { seed: Number(seed) }),
  };
}
