/**
 * A small uPlot time-series chart (rates, latencies) that fills its container's width, follows the theme,
 * and is redrawn only when the stats poller brings a point (once a second).
 */
import uPlot from "uplot";
import { hhmmss } from "./format.js";
import { onThemeChange, type Palette, palette } from "./theme.js";

/** One line: its legend label and which theme colour it takes. */
export interface Line {
  label: string;
  color: keyof Palette;
}

export class LineChart {
  private plot: uPlot | undefined;
  private data: uPlot.AlignedData = [[]];

  constructor(
    private readonly container: HTMLElement,
    private readonly lines: readonly Line[],
    /** The y-axis and legend values, e.g. `9.8K` or `0.42 ms`. */
    private readonly format: (v: number | null) => string,
    /** Seconds the x axis spans. */
    private readonly windowSec: number,
    private readonly height = 160,
  ) {
    this.data = [[], ...lines.map(() => [])];
    this.build();
    new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height })).observe(container);
    // uPlot takes its colours once: a theme switch builds the chart again.
    onThemeChange(() => this.build());
  }

  /** Draws `data` (times in seconds, then one column per line). */
  setData(data: (number | null)[][]): void {
    this.data = data as uPlot.AlignedData;
    this.plot?.setData(this.data);
  }

  private width(): number {
    return Math.max(200, this.container.clientWidth);
  }

  private build(): void {
    this.plot?.destroy();
    const p = palette();
    const axis = (values: (v: number) => string, size?: number): uPlot.Axis => ({
      stroke: p.muted,
      grid: { stroke: p.grid, width: 1 },
      ticks: { stroke: p.grid, width: 1 },
      ...(size === undefined ? {} : { size }),
      values: (_u: uPlot, vals: number[]) => vals.map(values),
    });
    this.plot = new uPlot(
      {
        width: this.width(),
        height: this.height,
        cursor: { drag: { x: false, y: false } },
        legend: { live: false },
        scales: {
          // The whole window from the first reading on, so one point does not stretch the axis over years.
          x: {
            time: true,
            range: (_u, _min, max) => {
              const end = Number.isFinite(max) && max > 0 ? max : Date.now() / 1000;
              return [end - this.windowSec, end];
            },
          },
          y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max * 1.1)] },
        },
        axes: [axis((t) => hhmmss(t * 1000)), axis((v) => this.format(v), 72)],
        series: [
          {},
          ...this.lines.map((l): uPlot.Series => ({
            label: l.label,
            stroke: p[l.color],
            width: 1.5,
            points: { show: false },
            value: (_u, v) => this.format(v),
          })),
        ],
      },
      this.data,
      this.container,
    );
  }
}
