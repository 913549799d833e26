/** Markdown tables for the benchmark report and for benchmarks that print tables themselves. */

/** A cell: numbers ≥ 1000 with thousands separators, others to 2 decimals; null/undefined as "–". */
export const fmt = (x: unknown): string => {
  if (x === null || x === undefined) return "–";
  if (typeof x === "number") {
    if (!Number.isFinite(x)) return String(x);
    if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString("en-US");
    return String(Math.round(x * 100) / 100);
  }
  return String(x);
};

/** a ÷ b to 2 decimals, "–" when b is 0. */
export const ratio = (a: number, b: number): string =>
  b === 0 ? "–" : (Math.round((a / b) * 100) / 100).toFixed(2);

export function table(head: string[], rows: unknown[][]): string {
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => " --- ").join("|")}|`];
  for (const r of rows) lines.push(`| ${r.map(fmt).join(" | ")} |`);
  return `${lines.join("\n")}\n`;
}
