/**
 * Applies the retention limits now and then, off the write path. A WAL segment goes only once the store
 * holds it (see storage/retention.ts).
 */
import type { Logger } from "../logger.js";
import { applyRetention, type RetentionOptions, type Store, type Wal } from "../storage/index.js";

/** How often retention runs. */
const RETENTION_EVERY_MS = 60_000;

/** Starts the timer (nothing when no limit is set); returns its stop. */
export function startRetention(wal: Wal, store: Store, limits: RetentionOptions, log: Logger): () => void {
  if (Object.values(limits).every((v) => v === undefined)) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    applyRetention(wal, store, limits)
      .then(
        (report) => {
          if (report.walSegmentsRemoved.length > 0 || report.storeSeqBlocksRemoved > 0)
            log.info({ report }, "retention");
        },
        (err) => log.error({ err }, "retention failed"),
      )
      .finally(() => {
        running = false;
      });
  }, RETENTION_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
