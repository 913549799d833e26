/**
 * The one seam to uWebSockets.js. Nothing else imports a uWS package.
 *
 * uWebSockets.js is not on the npm registry under its own name. We try, in order: an installed official
 * `uWebSockets.js`, `@btc-vision/uwebsockets.js` (Node 20–25, glibc ≥ 2.38), then the native binary of
 * `@trufflesuite/uws-js-unofficial` (Node 16/18/20). The trufflesuite package's own entry point silently
 * falls back to a JavaScript implementation on `ws` when its binary does not load; we load the binary
 * directly instead and fail at start-up, saying what was tried, rather than run at a fraction of the speed.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type * as UwsModule from "@trufflesuite/uws-js-unofficial";

export type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  us_listen_socket as ListenSocket,
  us_socket_context_t,
  WebSocket,
  WebSocketBehavior,
} from "@trufflesuite/uws-js-unofficial";

/** The uWS module's API. */
export type Uws = typeof UwsModule;

/** The uWS module as loaded, and which package it came from. */
export interface LoadedUws {
  uws: Uws;
  source: string;
}

const require = createRequire(import.meta.url);
let loaded: LoadedUws | undefined;

/** Loads the native uWS module once; throws with every attempt's reason when none loads. */
export function loadUws(): LoadedUws {
  if (loaded !== undefined) return loaded;
  const failures: string[] = [];
  for (const [source, load] of CANDIDATES) {
    try {
      loaded = { uws: load(), source };
      return loaded;
    } catch (err) {
      failures.push(`${source}: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  throw new Error(`no native uWebSockets.js could be loaded (tried: ${failures.join("; ")})`);
}

const CANDIDATES: [string, () => Uws][] = [
  ["uWebSockets.js", () => require("uWebSockets.js")],
  ["@btc-vision/uwebsockets.js", () => require("@btc-vision/uwebsockets.js")],
  [
    "@trufflesuite/uws-js-unofficial",
    () => {
      const pkg = dirname(require.resolve("@trufflesuite/uws-js-unofficial/package.json"));
      const abi = `${process.platform}_${process.arch}_${process.versions.modules}`;
      return require(join(pkg, "binaries", `uws_${abi}.node`));
    },
  ],
];

/** Copies a uWS ArrayBuffer (valid only during its callback) into text. */
export function arrayBufferToText(ab: ArrayBuffer): string {
  return Buffer.from(ab).toString("utf8");
}
