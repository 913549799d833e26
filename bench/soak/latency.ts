/** HDR histograms of latencies in nanoseconds, as every soak process records them, and their percentiles. */
import { build, decodeFromCompressedBase64, type Histogram } from "hdr-histogram-js";

/** 3 significant digits, 1 ns to 60 s. */
export function newHistogram(): Histogram {
  return build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 60e9 });
}

/** One histogram of several (compressed base64, as the processes send them). */
export function mergeHistograms(encoded: string[]): Histogram {
  const total = newHistogram();
  for (const e of encoded) total.add(decodeFromCompressedBase64(e));
  return total;
}

/** Latency percentiles in µs (2 decimals) and the sample count. */
export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function percentiles(h: Histogram): Percentiles {
  const us = (p: number) => (h.totalCount === 0 ? 0 : Math.round(h.getValueAtPercentile(p) / 10) / 100);
  return {
    count: h.totalCount,
    p50: us(50),
    p90: us(90),
    p99: us(99),
    p999: us(99.9),
    max: h.totalCount === 0 ? 0 : Math.round(h.maxValue / 10) / 100,
  };
}
