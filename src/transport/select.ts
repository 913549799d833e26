/**
 * Which transport serves, decided once at start-up on the main thread and handed to every socket worker
 * (`WorkerInit.transport`), so all workers run the same one and the log and `/v1/stats` can say which and
 * why. `--transport auto` (the default) takes native uWebSockets.js when a build loads and the `ws`
 * transport otherwise — out loud, with each native package's reason; `uws` refuses to start without a
 * native build; `ws` never tries one.
 */
import { TickringError } from "../errors.js";
import type { Transport, TransportName } from "./transport.js";
import { type LoadFailure, probeUws, uwsTransport } from "./uws.js";
import { WS_SHARES_PORT, wsTransport } from "./ws-transport.js";

/** `--transport`. */
export type TransportChoice = TransportName | "auto";
export const TRANSPORT_CHOICES = ["auto", "uws", "ws"] as const satisfies readonly TransportChoice[];

/** The transport in force, as the start-up log and `/v1/stats` report it. */
export interface TransportSelection {
  name: TransportName;
  /** The package serving (`@trufflesuite/uws-js-unofficial`, `ws`). */
  source: string;
  /** Why this one: asked for, or what auto found. */
  reason: string;
  /** Native packages that did not load, and why (empty when one loaded or none was tried). */
  unavailable: LoadFailure[];
  /** Socket workers that will run: the count asked for, or 1 where the `ws` transport cannot share a port. */
  workers: number;
  /** Set when fewer workers run than were asked for, saying why. */
  workersNote?: string;
}

/**
 * Picks the transport for `choice` with `workers` socket workers asked for.
 * @throws {@link TickringError} `UNAVAILABLE` when `uws` is asked for and no native build loads.
 */
export function selectTransport(choice: TransportChoice, workers: number): TransportSelection {
  if (choice === "ws") return onWs("--transport ws", [], workers);
  const probe = probeUws();
  if ("uws" in probe) {
    const reason = choice === "uws" ? "--transport uws" : "auto: a native uWebSockets.js loaded";
    return { name: "uws", source: probe.source, reason, unavailable: probe.failures, workers };
  }
  const tried = probe.failures.map((f) => `${f.source}: ${f.reason}`).join("; ");
  if (choice === "uws") {
    throw new TickringError(
      "UNAVAILABLE",
      `--transport uws: no native uWebSockets.js could be loaded (${tried}); --transport auto or ws serves on the ws transport`,
    );
  }
  return onWs("auto: no native uWebSockets.js loaded", probe.failures, workers);
}

function onWs(reason: string, unavailable: LoadFailure[], workers: number): TransportSelection {
  const selection: TransportSelection = {
    name: "ws",
    source: wsTransport.source,
    reason,
    unavailable,
    workers,
  };
  if (workers > 1 && !WS_SHARES_PORT) {
    selection.workers = 1;
    selection.workersNote =
      `Node ${process.version} has no listen({ reusePort }) (Node 22.12 and later do), so the ws transport ` +
      `runs 1 socket worker, not ${workers}`;
  }
  return selection;
}

/** The transport a worker was told to run (it loads the same native module the main thread did). */
export function loadTransport(name: TransportName): Transport {
  if (name === "ws") return wsTransport;
  const uws = uwsTransport();
  if (uws === undefined)
    throw new TickringError("UNAVAILABLE", "native uWebSockets.js did not load in a socket worker");
  return uws;
}
