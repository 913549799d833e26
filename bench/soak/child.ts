/**
 * How the soak's coordinator and its load processes talk: JSON lines over stdio. A process gets its
 * config as `argv[2]` (JSON), loads, prints `{"ready":true}`, waits for one {@link Schedule} line on stdin,
 * runs it, and prints one result line. Connecting is part of running: a hostile process that has only
 * loaded costs nothing while the baseline phase is measured.
 *
 * Every time is `process.hrtime` nanoseconds (CLOCK_MONOTONIC, one clock for every process of the
 * machine), as decimal strings.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** The run's timeline. */
export interface Schedule {
  /** The normal publisher's first slot; the normal subscribers are connected by then. */
  startNs: string;
  /** The baseline phase (normal load only) is measured from here … */
  baselineNs: string;
  /** … to here, where the hostile processes start and the hostile phase is measured from … */
  hostileNs: string;
  /** … to here, where publishing stops and the hostile processes end. */
  endNs: string;
}

/** Now, in hrtime nanoseconds. */
export const hrNow = (): bigint => process.hrtime.bigint();

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Resolves at hrtime `ns` (timer precision: about a millisecond). */
export async function sleepUntil(ns: bigint): Promise<void> {
  await sleep(Number(ns - hrNow()) / 1e6);
}

/** This process's config, from argv[2]. */
export function childConfig<T>(): T {
  return JSON.parse(process.argv[2]) as T;
}

/** Says ready and waits for the schedule. */
export function awaitSchedule(): Promise<Schedule> {
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  return new Promise((resolve) =>
    createInterface({ input: process.stdin }).once("line", (l) => resolve(JSON.parse(l))),
  );
}

/** Prints the result line and ends the process (sockets still open are dropped). */
export async function finish(result: unknown): Promise<never> {
  await new Promise<void>((r) => process.stdout.write(`${JSON.stringify(result)}\n`, () => r()));
  process.exit(0);
}

/** A load process as the coordinator sees it. */
export class Child<R> {
  readonly ready: Promise<void>;
  readonly result: Promise<R>;
  private readonly proc: ChildProcess;

  /** Starts `node <script> <config JSON>`; `name` labels its failure. */
  constructor(
    readonly name: string,
    script: URL,
    config: unknown,
  ) {
    this.proc = spawn(process.execPath, [script.pathname, JSON.stringify(config)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const lines = createInterface({ input: this.proc.stdout! });
    const exited = new Promise<never>((_, reject) =>
      this.proc.once("exit", (code, signal) =>
        reject(new Error(`${name} process ended (${signal ?? code}) before its result`)),
      ),
    );
    exited.catch(() => {});
    let onReady!: () => void;
    let onResult!: (r: R) => void;
    const ready = new Promise<void>((r) => (onReady = r));
    const result = new Promise<R>((r) => (onResult = r));
    lines.on("line", (line) => {
      const msg = JSON.parse(line) as { ready?: boolean };
      if (msg.ready === true) onReady();
      else onResult(msg as R);
    });
    this.ready = Promise.race([ready, exited]);
    this.result = Promise.race([result, exited]);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  go(schedule: Schedule): void {
    this.proc.stdin!.write(`${JSON.stringify(schedule)}\n`);
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
}

/** Starts measuring this process's CPU; the function returned gives the share of one core used since. */
export function cpuMeter(): () => number {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  return () => {
    const cpu = process.cpuUsage(cpu0);
    return Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)) * 100) / 100;
  };
}

/**
 * The start every hostile process shares: its config, loaded; the schedule, waited for; then, once the
 * hostile phase begins, the phase's end and a CPU meter running from there.
 */
export async function hostilePhase<C>(): Promise<{ config: C; end: bigint; cpu: () => number }> {
  const config = childConfig<C>();
  const schedule = await awaitSchedule();
  await sleepUntil(BigInt(schedule.hostileNs));
  return { config, end: BigInt(schedule.endNs), cpu: cpuMeter() };
}
