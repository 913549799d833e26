/**
 * The `uws` transport: a native uWebSockets.js build. Nothing else imports a uWS package.
 *
 * uWebSockets.js is not on the npm registry under its own name. We try, in order: an installed official
 * `uWebSockets.js`, `@btc-vision/uwebsockets.js` (Node 20/22/24/25, glibc ≥ 2.38), then the native binary
 * of `@trufflesuite/uws-js-unofficial` (Node 16/18/20). The trufflesuite package's own entry point silently
 * falls back to a JavaScript implementation on `ws` when its binary does not load; we load the binary
 * directly instead, so "uws" always means native code — the JavaScript fallback is our own `ws` transport
 * (ws-transport.ts), chosen out loud by select.ts.
 */
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type * as UwsModule from "@trufflesuite/uws-js-unofficial";
import type { App, ListenToken, Transport } from "./transport.js";

/** The uWS module's API. */
type Uws = typeof UwsModule;

/** Why one candidate package did not load. */
export interface LoadFailure {
  source: string;
  reason: string;
}

/** The outcome of trying every candidate: the module and its package, or every failure. */
export type UwsProbe = { uws: Uws; source: string; failures: LoadFailure[] } | { failures: LoadFailure[] };

const require = createRequire(import.meta.url);
let probed: UwsProbe | undefined;

/** Tries each candidate once per thread (a native module loads once per thread anyway). */
export function probeUws(): UwsProbe {
  if (probed !== undefined) return probed;
  const failures: LoadFailure[] = [];
  for (const [source, load] of CANDIDATES) {
    try {
      probed = { uws: load(), source, failures };
      return probed;
    } catch (err) {
      failures.push({ source, reason: loadReason(err) });
    }
  }
  probed = { failures };
  return probed;
}

/** The `uws` transport, or undefined when no native module loads. */
export function uwsTransport(): Transport | undefined {
  const p = probeUws();
  if (!("uws" in p)) return undefined;
  const { uws, source } = p;
  return {
    name: "uws",
    source,
    // uWS's TemplatedApp is the surface App describes (its parameter types are wider: RecognizedString).
    app: () => uws.App() as unknown as App,
    localPort: (token: ListenToken) => uws.us_socket_local_port(token as never),
    closeListen: (token: ListenToken) => uws.us_listen_socket_close(token as never),
  };
}

const CANDIDATES: [string, () => Uws][] = [
  ["uWebSockets.js", () => require("uWebSockets.js")],
  ["@btc-vision/uwebsockets.js", () => require("@btc-vision/uwebsockets.js")],
  [
    "@trufflesuite/uws-js-unofficial",
    () => {
      const pkg = dirname(require.resolve("@trufflesuite/uws-js-unofficial/package.json"));
      const abi = `${process.platform}_${process.arch}_${process.versions.modules}`;
      const binary = join(pkg, "binaries", `uws_${abi}.node`);
      if (!existsSync(binary)) {
        const have = readdirSync(join(pkg, "binaries")).filter((f) =>
          f.startsWith(`uws_${process.platform}_${process.arch}_`),
        );
        throw new Error(`no binary for Node ${process.version} (uws_${abi}.node; it has ${have.join(", ")})`);
      }
      return require(binary);
    },
  ],
];

/**
 * The line of a load error that says why: the dynamic linker's (`GLIBC_2.38' not found`) or the
 * resolver's (`Cannot find module`) rather than a package's preamble about the platforms it supports.
 */
function loadReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "MODULE_NOT_FOUND") return "not installed";
  const lines = String((err as Error)?.message ?? err)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const telling = lines.find((l) =>
    /not found|cannot open|No such file|invalid ELF|undefined symbol/i.test(l),
  );
  return (telling ?? lines[0] ?? "unknown error").replace(/^Error: /, "");
}
