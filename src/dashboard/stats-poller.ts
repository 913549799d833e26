/**
 * Reads `GET /v1/stats` once a second — the next read starts a second after the last one ended, so a slow
 * daemon is never asked more often — and hands each reading to the panels, with one a few seconds older to
 * take rates from. A token,
 * when the page has one, goes in the `Authorization` header. 401 hands over to the token prompt; 403 (a
 * token without the `metrics` permission) stops polling: the page shows market data without the panels.
 */
import { readStats, type StatsReading, type StatsView, statsView } from "./stats.js";

/** Once a second: never faster. */
export const POLL_MS = 1000;
/**
 * Rates are taken over this many readings back (about 5 s): the workers publish their counters every 200 ms,
 * so a rate over one second is off by up to a fifth either way; over five, by a twenty-fifth.
 */
const RATE_READINGS = 5;

export interface StatsHandlers {
  view(v: StatsView): void;
  /** The stats cannot be read: `status` 401 (token), 403 (permission), 0 (network), or another. */
  failed(status: number, message: string): void;
}

export class StatsPoller {
  /** The last readings, oldest first: rates are over the span from the oldest to the newest. */
  private readonly history: { reading: StatsReading; at: number }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;

  constructor(
    private readonly token: () => string | undefined,
    private readonly on: StatsHandlers,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.poll();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private async poll(): Promise<void> {
    const token = this.token();
    const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
    let next = true;
    try {
      const res = await fetch("/v1/stats", { headers, cache: "no-store" });
      if (res.ok) {
        const reading = readStats(await res.json());
        const at = Date.now();
        if (this.running) this.on.view(statsView(reading, at, this.history[0]));
        this.history.push({ reading, at });
        if (this.history.length > RATE_READINGS) this.history.shift();
      } else {
        const body = (await res.json().catch(() => ({}))) as { message?: string };
        next = res.status !== 401 && res.status !== 403;
        this.on.failed(res.status, body.message ?? res.statusText);
      }
    } catch (err) {
      this.on.failed(0, (err as Error).message);
    }
    if (!next) this.running = false;
    if (this.running) this.timer = setTimeout(() => void this.poll(), POLL_MS);
  }
}
