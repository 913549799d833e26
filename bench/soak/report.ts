/**
 * The soak's report: figures per phase, the targets of the hardening issue with whether each was met, and
 * what the hostile clients got back. One JSON object with `--json`, readable tables otherwise.
 */
import type { PhaseProbe } from "./probe.js";
import type { HistoryCheck } from "./history-check.js";
import type { Percentiles } from "./latency.js";
import type { Counts } from "./tally.js";

export interface PhaseFigures {
  /**
   * Ticks of the normal publisher sent in the phase that reached their subscribers (by the end of the
   * drain), over all subscribers, and how many they subscribed to. Latency is over the ticks that arrived.
   */
  frames: number;
  expectedFrames: number;
  /** Receive − ts_recv over the 10 subscribers, µs. */
  fromRecvUs: Percentiles;
  /** Receive − ts_event (the publisher's intended send time), µs. */
  fromEventUs: Percentiles;
  /** Send → ack of the normal publisher's messages, µs. */
  ackUs: Percentiles;
  /** Per subscriber: receive − ts_recv p50 and p99, µs, and frames. */
  subscribers: { name: string; frames: number; p50: number; p99: number }[];
  /** The normal client's short replays: outcomes, and time to `replay_done` (median, max). */
  replays: { counts: Counts; doneMsP50: number | null; doneMsMax: number | null };
  daemon: PhaseProbe | null;
}

export interface Target {
  name: string;
  target: string;
  value: string;
  met: boolean;
}

export interface HostileOutcome {
  name: string;
  /** The process's own figures (sent, opened, …) and its CPU share. */
  summary: Record<string, unknown>;
  counts: Counts;
  error?: string;
}

export interface SoakReport {
  bench: "soak";
  machine: {
    cpus: number;
    cpu: string;
    node: string;
    memGiB: number;
    loadAtStart: number[];
    loadAtEnd: number[];
  };
  settings: {
    secondsPerPhase: number;
    warmupSeconds: number;
    seed: number;
    hostile: string[];
    normalRate: number;
    normalSymbols: number;
    daemonArgs: string[];
  };
  phases: { baseline: PhaseFigures; hostile: PhaseFigures };
  /** hostile ÷ baseline of the subscribers' receive − ts_recv. */
  ratio: { p50: number | null; p99: number | null };
  daemon: {
    /** The daemon process ended by itself (a crash): exit code or signal, and the phase. */
    exits: string[];
    workerFailures: number | null;
    rssMaxMiB: number;
    vmHwmMiB: number;
    /** RSS once every client had left. */
    rssAfterMiB: number | null;
    /**
     * Connections the daemon still counted once every client had left (a second after, and again after the
     * history check, which only holds its own connection while it runs).
     */
    connectionsAfter: number | null;
    connectionsAtEnd: number | null;
    /** What the daemon counted of the run (its /metrics at the end): slow-consumer actions, rejections. */
    counters: Counts;
    setup: PhaseProbe | null;
    after: PhaseProbe | null;
    /** Exit code of the SIGTERM at the end ("hang" if it did not exit in time), and how long it took. */
    stop: { code: string; ms: number };
    /** Warning and error log lines, by message. */
    logs: Counts;
  };
  normal: {
    ticksSent: number;
    ticksAcked: number;
    publisherProblems: Counts;
    unanswered: number;
    /** `*` subscribers: seqs missing without a gap, seqs twice; gaps announced; closes and errors. */
    missing: number;
    duplicates: number;
    gapSeqs: number;
    negativeLatencies: number;
    subscriberCounts: Counts;
    cpu: number;
  } | null;
  history: HistoryCheck | null;
  hostile: HostileOutcome[];
  /** Inputs that got an answer a correct daemon never gives (fuzz). */
  suspicious: unknown[];
  targets: Target[];
  errors: string[];
}

const fmt = (n: number | null | undefined) =>
  n === null || n === undefined ? "–" : n.toLocaleString("en-US");

/** The readable form of the report. */
export function reportText(r: SoakReport): string {
  const out: string[] = [];
  const m = r.machine;
  const s = r.settings;
  out.push(
    `soak — ${m.cpus} × ${m.cpu}, ${m.memGiB} GiB, Node ${m.node}; load average ${m.loadAtStart.join(" ")} at start, ${m.loadAtEnd.join(" ")} at end`,
    `daemon: tickring serve ${s.daemonArgs.join(" ")} (every other option its default); ${s.secondsPerPhase} s per phase after ${s.warmupSeconds} s of warm-up; seed ${s.seed}`,
    `normal load: ${fmt(s.normalRate)} ticks/s over ${s.normalSymbols} symbols (binary and JSON messages in turn), 10 subscribers; hostile: ${s.hostile.join(", ") || "none"}`,
    "",
    "Targets",
  );
  for (const t of r.targets)
    out.push(`  [${t.met ? "met" : "MISSED"}] ${t.name}: ${t.value} (target ${t.target})`);
  out.push("", "Phases (latency µs; receive − ts_recv unless said otherwise)");
  const phase = (f: (p: PhaseFigures) => string) => [f(r.phases.baseline), f(r.phases.hostile)];
  const us = (x: Percentiles) =>
    `${fmt(Math.round(x.p50))} / ${fmt(Math.round(x.p99))} / ${fmt(Math.round(x.p999))}`;
  const daemon = (f: (d: PhaseProbe) => string) => phase((p) => (p.daemon === null ? "–" : f(p.daemon)));
  const rows: [string, string[]][] = [
    ["", ["baseline", "hostile"]],
    [
      "delivered",
      phase(
        (p) =>
          `${Math.round((p.frames / Math.max(1, p.expectedFrames)) * 1000) / 10}% of ${fmt(p.expectedFrames)}`,
      ),
    ],
    ["p50 / p99 / p99.9 µs", phase((p) => us(p.fromRecvUs))],
    ["  from ts_event", phase((p) => us(p.fromEventUs))],
    ["ack p50 / p99 / p99.9 µs", phase((p) => us(p.ackUs))],
    ["daemon CPU (cores)", daemon((d) => String(d.cpuCores))],
    ["daemon RSS max", daemon((d) => `${d.rssMaxMiB} MiB`)],
    [
      "/healthz slowest",
      daemon((d) => `${fmt(d.healthzMaxMs)} ms (${d.healthzFailures} of ${d.healthzChecks} failed)`),
    ],
    ["worker ring lag max", daemon((d) => `${fmt(d.ringLagMaxBytes)} B`)],
    ["connections max", daemon((d) => fmt(d.connectionsMax))],
  ];
  for (const [label, [b, h]] of rows) out.push(`  ${label.padEnd(26)} ${b.padEnd(36)} ${h}`);
  out.push(
    `  ratio hostile/baseline: p50 ${fmt(r.ratio.p50)}, p99 ${fmt(r.ratio.p99)}`,
    "  (delivered: the normal ticks sent in the phase that reached their subscribers by the end of the drain;",
    "  latency is over those, so a lower bound when under 100%)",
    "",
    "Subscribers (receive − ts_recv p50 / p99 µs, frames)",
  );
  const b = r.phases.baseline.subscribers;
  const h = r.phases.hostile.subscribers;
  const sub = (x: { p50: number; p99: number; frames: number } | undefined) =>
    x === undefined ? "–" : `${fmt(Math.round(x.p50))} / ${fmt(Math.round(x.p99))} (${fmt(x.frames)})`;
  for (let i = 0; i < b.length; i++) {
    out.push(`  ${b[i].name.padEnd(11)} baseline ${sub(b[i]).padEnd(28)} hostile ${sub(h[i])}`);
  }
  for (const name of ["baseline", "hostile"] as const) {
    const rp = r.phases[name].replays;
    out.push(
      `  short replays, ${name}: ${countsText(rp.counts)}; done in ${fmt(rp.doneMsP50)} ms median, ${fmt(rp.doneMsMax)} ms max`,
    );
  }
  const n = r.normal;
  if (n !== null) {
    out.push(
      "",
      `Normal clients: ${fmt(n.ticksSent)} ticks sent, ${fmt(n.ticksAcked)} acked, ${n.unanswered} messages unanswered; ` +
        `publisher problems: ${countsText(n.publisherProblems) || "none"}`,
      `  * subscribers: ${n.missing} seqs missing without a gap, ${n.duplicates} twice, ${fmt(n.gapSeqs)} in gaps; ` +
        `${n.negativeLatencies} frames received before their ts_recv; ${countsText(n.subscriberCounts)}; client CPU ${n.cpu}`,
    );
  }
  const hc = r.history;
  if (hc !== null) {
    out.push(
      "",
      `History from seq 1 to ${fmt(hc.toSeq)} (tickring/client, ${fmt(hc.framesReplayed)} frames in ${fmt(hc.replayMs)} ms, ${hc.ended}): ` +
        `${fmt(hc.ackedTicks)} acked ticks, ${hc.lost} lost, ${hc.duplicated} duplicated, ${hc.misplaced} misplaced, ` +
        `${hc.unchecked} unchecked, ${hc.holes} seqs missing, ${hc.presentUnacked} present but unacked`,
    );
    for (const e of hc.examples) out.push(`  ${e}`);
  }
  const d = r.daemon;
  out.push(
    "",
    `Daemon: exits ${d.exits.join(", ") || "none"}; worker failures ${fmt(d.workerFailures)}; RSS max ${d.rssMaxMiB} MiB, VmHWM ${d.vmHwmMiB} MiB, ` +
      `after the clients left ${fmt(d.rssAfterMiB)} MiB; connections counted after ${fmt(d.connectionsAfter)} (1 s), ${fmt(d.connectionsAtEnd)} (after the history check); SIGTERM → ${d.stop.code} in ${d.stop.ms} ms`,
    `  its own counts: ${countsText(d.counters)}`,
    `  warnings and errors logged: ${countsText(d.logs) || "none"}`,
    "",
    "What the hostile clients got back",
  );
  for (const x of r.hostile) {
    out.push(`  ${x.name}: ${x.error ?? countsText(x.summary as Counts)}`);
    const byLabel = new Map<string, string[]>();
    for (const [key, v] of Object.entries(x.counts).sort()) {
      const [label, outcome] = key.split(" → ");
      byLabel.set(label, [...(byLabel.get(label) ?? []), `${outcome} ${fmt(v)}`]);
    }
    for (const [label, outcomes] of byLabel) out.push(`    ${label}: ${outcomes.join(", ")}`);
  }
  if (r.suspicious.length > 0) {
    out.push("", "Suspicious answers (input kind, answer, first bytes base64)");
    for (const x of r.suspicious) out.push(`  ${JSON.stringify(x)}`);
  }
  for (const e of r.errors) out.push(`error: ${e}`);
  return out.join("\n");
}

function countsText(c: Counts): string {
  return Object.entries(c)
    .map(([k, v]) => `${k} ${typeof v === "number" ? fmt(v) : String(v)}`)
    .join(", ");
}
