/**
 * A progress bar on stderr for commands that move rows (`import`, `export`): done of total, rows/s and the
 * time left. Drawn when stderr is a terminal or `--progress` forces it; stdout stays clean for results.
 */
import { SingleBar } from "cli-progress";

export interface RowsBar {
  /** `done` of `total` (total 0 = unknown yet). */
  update(label: string, done: number, total: number, unit: string): void;
  stop(): void;
}

/** A bar, or one that draws nothing when there is no terminal to draw on. */
export function rowsBar(forced: boolean | undefined): RowsBar {
  if (forced !== true && process.stderr.isTTY !== true) return { update: () => {}, stop: () => {} };
  const bar = new SingleBar({
    stream: process.stderr,
    noTTYOutput: forced === true,
    format: "{label} [{bar}] {percentage}% | {value}/{total} {unit} | {rate} {unit}/s | ETA {eta_formatted}",
    hideCursor: true,
    etaBuffer: 50,
  });
  let started = false;
  let label = "";
  let t0 = 0;
  let base = 0;
  return {
    update(l, done, total, unit) {
      if (!started || l !== label) {
        if (started) bar.stop();
        started = true;
        label = l;
        t0 = performance.now();
        base = done;
        bar.start(Math.max(total, 1), done, { label, unit, rate: "0" });
      }
      const s = (performance.now() - t0) / 1000;
      bar.setTotal(Math.max(total, done, 1));
      bar.update(done, {
        label,
        unit,
        rate: s > 0 ? Math.round((done - base) / s).toLocaleString("en") : "0",
      });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
