/** What a benchmark's report says of the machine it ran on: cores, CPU model, Node, and the load then. */
import { cpus, loadavg } from "node:os";

export interface Machine {
  cpus: number;
  cpu: string;
  node: string;
  /** The 1-minute load average when the figures were taken (other work on a shared machine). */
  load: number;
}

export function machine(): Machine {
  return {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? "unknown",
    node: process.version,
    load: loadavg()[0],
  };
}
