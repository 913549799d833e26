/**
 * What a load process counts: outcomes by name (`error:BAD_JSON`, `close:1009`, `http:429`, …), each under
 * the label of what provoked it (`ingest/deep-json`). The coordinator prints them to show the hostile
 * clients were answered — refused with a code — not silently ignored.
 */
export type Counts = Record<string, number>;

export class Tally {
  readonly counts: Counts = {};

  add(label: string, outcome: string, n = 1): void {
    const key = `${label} → ${outcome}`;
    this.counts[key] = (this.counts[key] ?? 0) + n;
  }

  /** The count of one outcome over every label. */
  total(outcome: string): number {
    let n = 0;
    for (const [key, v] of Object.entries(this.counts)) if (key.endsWith(` → ${outcome}`)) n += v;
    return n;
  }
}

/** Adds `b`'s counts into `a`. */
export function mergeCounts(a: Counts, b: Counts): Counts {
  for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v;
  return a;
}
