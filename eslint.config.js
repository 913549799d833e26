// ESLint (flat config): the JS recommended rules and typescript-eslint's recommended ones, and the layering
// of src/ (below). Formatting is Prettier's (`npm run format`); `npm run lint` checks both.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

/**
 * Which folders of src/ each folder may import. Data flows one way — ingest (publisher) → sequencer → WAL
 * (storage) → ring → subscriber → socket (edge) — with recovery beside storage; `auth` (tokens and entitlements)
 * is used by the edge, which hands the feeds only what a connection may see; `threads` is what the main
 * thread (daemon) and the socket workers (edge) share; `indexing` is the indexer thread; `transport` is the
 * one seam to the WebSocket server (uWebSockets.js or `ws`), chosen on the main thread; `replication` is a
 * node of a replication group on NATS JetStream (the daemon composes it; its replicator thread reads the WAL
 * and wakes on the ring); `dashboard` is the browser page the edge serves, bundled on its own (it talks to
 * the daemon only over HTTP and WebSocket). A folder may always import itself, src/errors.ts, src/clock.ts
 * and src/logger.ts.
 */
const LAYERS = {
  frame: [],
  config: [],
  ring: ["frame"],
  transport: [],
  storage: ["frame", "config"],
  recovery: ["storage", "frame", "config"],
  publisher: ["frame", "ring", "config", "transport"],
  subscriber: ["frame", "ring", "storage", "config", "transport"],
  auth: ["config", "frame"],
  threads: ["config", "auth", "transport"],
  indexing: ["storage", "threads", "config", "frame"],
  replication: ["storage", "threads", "config", "frame", "ring"],
  edge: ["publisher", "subscriber", "ring", "storage", "threads", "transport", "frame", "config", "auth"],
  daemon: [
    "publisher",
    "ring",
    "storage",
    "recovery",
    "threads",
    "indexing",
    "replication",
    "transport",
    "frame",
    "config",
    "auth",
  ],
  client: ["frame"],
  dashboard: [],
};
const FOLDERS = [...Object.keys(LAYERS), "cli"];

const layering = Object.entries(LAYERS).map(([folder, allowed]) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: FOLDERS.filter((f) => f !== folder && !allowed.includes(f)).map((f) => ({
          group: [`**/${f}/**`, `../${f}/*`],
          message: `src/${folder} may not import src/${f}: see the layering in eslint.config.js`,
        })),
      },
    ],
  },
}));

export default defineConfig(
  { ignores: ["dist/**", "src/frame/generated/**", "node_modules/**", "data/**", "bench/results/**"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ["scripts/**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  ...layering,
  // The client library and the dashboard run in browsers: nothing that pulls Node modules in at run time.
  browserOnly("client", "tickring/client runs in browsers"),
  browserOnly("dashboard", "the dashboard runs in browsers"),
);

/** The layering rule of `folder` (it replaces the one above) plus: no `node:` module. */
function browserOnly(folder, why) {
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["node:*"], message: why },
            ...FOLDERS.filter((f) => f !== folder && !LAYERS[folder].includes(f)).map((f) => ({
              group: [`**/${f}/**`, `../${f}/*`],
              message: `src/${folder} may not import src/${f}`,
            })),
          ],
        },
      ],
    },
  };
}
