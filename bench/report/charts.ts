/**
 * The report's plots: Vega-Lite specs compiled and rendered to SVG headless (vega's "none" renderer, no
 * canvas, no native module). Two kinds: latency percentile curves on a log scale, and throughput bars.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

export interface CurvePoint {
  /** Series name, e.g. "tickring · 100 clients @ 10K/s". */
  series: string;
  /** "p50", "p99", "p99.9", "max", … */
  percentile: string;
  us: number;
}

export interface Bar {
  group: string;
  system: string;
  value: number;
}

/** Percentile labels in the order the x axis shows them. */
export const PERCENTILE_ORDER = [
  "min",
  "p50",
  "p75",
  "p90",
  "p95",
  "p99",
  "p99.5",
  "p99.9",
  "p99.95",
  "p99.99",
  "max",
];

export function percentileLabel(p: number): string {
  return p === 0 ? "min" : p === 100 ? "max" : `p${p}`;
}

async function render(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** Latency (µs, log scale) against percentile, one line per series. */
export function latencyCurves(title: string, points: CurvePoint[]): Promise<string> {
  const used = PERCENTILE_ORDER.filter((p) => points.some((x) => x.percentile === p));
  return render({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 560,
    height: 320,
    background: "white",
    data: { values: points.filter((p) => p.us > 0) },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "percentile", type: "ordinal", sort: used, title: "percentile" },
      y: { field: "us", type: "quantitative", scale: { type: "log" }, title: "latency µs (log scale)" },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        legend: { orient: "bottom", columns: 2, labelLimit: 400 },
      },
    },
  });
}

/** Grouped bars: one group per scenario, one bar per system. */
export function throughputBars(title: string, yTitle: string, bars: Bar[]): Promise<string> {
  return render({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: { step: 24 },
    height: 280,
    background: "white",
    data: { values: bars },
    mark: "bar",
    encoding: {
      x: { field: "group", type: "nominal", title: null, axis: { labelAngle: -30, labelLimit: 220 } },
      xOffset: { field: "system", type: "nominal" },
      y: { field: "value", type: "quantitative", title: yTitle },
      color: { field: "system", type: "nominal", title: null, legend: { orient: "bottom", labelLimit: 400 } },
    },
  });
}
