/**
 * The last `capacity` points of a few time series sharing one time axis, as the columns uPlot draws
 * (`[times, values1, values2, …]`, times in seconds). A point past capacity drops the oldest. No DOM.
 */
export class SeriesWindow {
  private readonly columns: (number | null)[][];

  constructor(
    readonly capacity: number,
    lines: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new Error(`capacity must be ≥ 2: ${capacity}`);
    this.columns = Array.from({ length: lines + 1 }, () => []);
  }

  /** Adds the values of every line at `atMs` (ms since the epoch); null leaves a hole in that line. */
  push(atMs: number, values: readonly (number | null)[]): void {
    if (values.length !== this.columns.length - 1) {
      throw new Error(`expected ${this.columns.length - 1} values, got ${values.length}`);
    }
    this.columns[0].push(atMs / 1000);
    values.forEach((v, i) => this.columns[i + 1].push(v));
    if (this.columns[0].length > this.capacity) for (const c of this.columns) c.shift();
  }

  /** The columns, oldest first: times (s), then each line. uPlot reads them as they are. */
  data(): (number | null)[][] {
    return this.columns;
  }

  get length(): number {
    return this.columns[0].length;
  }
}
