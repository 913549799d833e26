/**
 * Watches the daemon from outside, per phase: its memory (`VmRSS` of /proc/<pid>/status every 200 ms, and
 * `VmHWM`, the kernel's own peak), its CPU (utime + stime of /proc/<pid>/stat), how long `/healthz` takes
 * to answer (a hang shows here first), and from `/metrics` the ring lag of its workers and the open
 * connections.
 */
import { readFileSync } from "node:fs";

export type ProbePhase = "setup" | "baseline" | "hostile" | "after";

/** What the probe saw in one phase. */
export interface PhaseProbe {
  seconds: number;
  rssMaxMiB: number;
  rssLastMiB: number;
  /** Cores the daemon used on average (all its threads). */
  cpuCores: number;
  healthzChecks: number;
  healthzMaxMs: number;
  /** `/healthz` answers that were not 200 within the timeout. */
  healthzFailures: number;
  ringLagMaxBytes: number;
  connectionsMax: number;
}

const SAMPLE_MS = 200;
const HEALTHZ_MS = 250;
const METRICS_MS = 1000;
const HEALTHZ_TIMEOUT_MS = 5000;
/** Linux's USER_HZ: the unit of utime and stime in /proc/<pid>/stat (100 on every mainstream build). */
const CLOCK_TICKS = 100;

/** The values of a metric's samples in Prometheus text (every label set). */
export function metricValues(text: string, name: string): number[] {
  const out: number[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) out.push(Number(line.split(" ").pop()));
  }
  return out;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** A metric summed over its workers, by the value of `label` (e.g. `policy`). */
export function metricByLabel(text: string, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const pattern = new RegExp(`${label}="([^"]*)"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const key = pattern.exec(line)?.[1] ?? "";
    out[key] = (out[key] ?? 0) + Number(line.split(" ").pop());
  }
  return out;
}

/**
 * What the daemon itself counted of the hostile traffic, over all workers: slow-consumer actions by
 * policy, ingest messages rejected, gaps sent, ring laps.
 */
export function daemonCounters(text: string): Record<string, number> {
  const total = (name: string) => sum(metricValues(text, name));
  const slow = metricByLabel(text, "tickring_slow_consumer_total", "policy");
  return {
    "slow consumer: frames dropped": slow.drop ?? 0,
    "slow consumer: frames conflated": slow.conflate ?? 0,
    "slow consumer: clients disconnected": slow.disconnect ?? 0,
    "ingest messages rejected": total("tickring_ingest_rejected_total"),
    "gap messages sent": total("tickring_gaps_total"),
    "ring laps": total("tickring_ring_laps_total"),
  };
}

/** `VmRSS` and `VmHWM` of a process, in MiB, or undefined once it is gone. */
export function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}

function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command (which may hold spaces) in parentheses; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

export class DaemonProbe {
  private phase: ProbePhase = "setup";
  private readonly phases = new Map<ProbePhase, PhaseProbe>();
  private phaseStart = performance.now();
  private cpuAtPhaseStart: number;
  private readonly timers: NodeJS.Timeout[] = [];
  private rssMax = 0;
  private hwm = 0;
  private healthzBusy = false;
  private metricsBusy = false;

  constructor(
    private readonly pid: number,
    private readonly port: number,
  ) {
    this.cpuAtPhaseStart = cpuSecondsOf(pid) ?? 0;
    this.phases.set("setup", empty());
    this.timers.push(setInterval(() => this.sample(), SAMPLE_MS));
    this.timers.push(setInterval(() => void this.healthz(), HEALTHZ_MS));
    this.timers.push(setInterval(() => void this.metrics(), METRICS_MS));
    this.sample();
  }

  /** Starts counting into `phase`. */
  mark(phase: ProbePhase): void {
    this.close();
    this.phase = phase;
    this.phaseStart = performance.now();
    this.cpuAtPhaseStart = cpuSecondsOf(this.pid) ?? this.cpuAtPhaseStart;
    this.phases.set(phase, empty());
  }

  /** Stops sampling; the phases seen, the highest RSS sampled and the kernel's peak (MiB). */
  stop(): { phases: Partial<Record<ProbePhase, PhaseProbe>>; rssMaxMiB: number; vmHwmMiB: number } {
    this.sample();
    this.close();
    for (const t of this.timers) clearInterval(t);
    return {
      phases: Object.fromEntries(this.phases),
      rssMaxMiB: Math.round(this.rssMax),
      vmHwmMiB: Math.round(this.hwm),
    };
  }

  private get current(): PhaseProbe {
    return this.phases.get(this.phase)!;
  }

  /** Closes the current phase's time and CPU figures. */
  private close(): void {
    const p = this.current;
    p.seconds = Math.round((performance.now() - this.phaseStart) / 100) / 10;
    const cpu = cpuSecondsOf(this.pid);
    if (cpu !== undefined && p.seconds > 0) {
      p.cpuCores = Math.round(((cpu - this.cpuAtPhaseStart) / p.seconds) * 100) / 100;
    }
  }

  private sample(): void {
    const m = memoryOf(this.pid);
    if (m === undefined) return;
    const p = this.current;
    p.rssMaxMiB = Math.max(p.rssMaxMiB, Math.round(m.rss));
    p.rssLastMiB = Math.round(m.rss);
    this.rssMax = Math.max(this.rssMax, m.rss);
    this.hwm = Math.max(this.hwm, m.hwm);
  }

  private async healthz(): Promise<void> {
    if (this.healthzBusy) return;
    this.healthzBusy = true;
    const p = this.current;
    const t0 = performance.now();
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}/healthz`, {
        signal: AbortSignal.timeout(HEALTHZ_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      if (res.status !== 200) p.healthzFailures++;
    } catch {
      p.healthzFailures++;
    } finally {
      p.healthzChecks++;
      p.healthzMaxMs = Math.max(p.healthzMaxMs, Math.round(performance.now() - t0));
      this.healthzBusy = false;
    }
  }

  private async metrics(): Promise<void> {
    if (this.metricsBusy) return;
    this.metricsBusy = true;
    const p = this.current;
    try {
      const text = await scrape(this.port);
      p.ringLagMaxBytes = Math.max(
        p.ringLagMaxBytes,
        ...metricValues(text, "tickring_worker_ring_lag_bytes"),
      );
      p.connectionsMax = Math.max(p.connectionsMax, sum(metricValues(text, "tickring_connections")));
    } catch {
      // /healthz counts the failures.
    } finally {
      this.metricsBusy = false;
    }
  }
}

/** The daemon's `/metrics` text. */
export async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    signal: AbortSignal.timeout(HEALTHZ_TIMEOUT_MS),
  });
  return res.text();
}

function empty(): PhaseProbe {
  return {
    seconds: 0,
    rssMaxMiB: 0,
    rssLastMiB: 0,
    cpuCores: 0,
    healthzChecks: 0,
    healthzMaxMs: 0,
    healthzFailures: 0,
    ringLagMaxBytes: 0,
    connectionsMax: 0,
  };
}
