/**
 * Headless Chromium for the dashboard's end-to-end tests, launched as bench/dashboard/chromium.ts says
 * (scripts/install-chromium.sh, which `npm test` runs first, installs it). Each page records its console
 * errors and uncaught exceptions, and every URL it asked for, so a test can check the page stayed clean and
 * loaded nothing from anywhere but the daemon.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";

export { launchChromium } from "../../bench/dashboard/chromium.js";

/** Where tests leave screenshots (gitignored): test-results/<name>/. */
export function artefactDir(name: string): string {
  const dir = join(fileURLToPath(new URL("../../../test-results/", import.meta.url)), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A page and what it reported. */
export interface WatchedPage {
  page: Page;
  /** Console messages of type error, and uncaught exceptions. */
  errors: string[];
  /** Every URL the page requested. */
  requests: string[];
  close(): Promise<void>;
}

/** A page in a fresh context (its own storage), watched from its first request. */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`exception: ${e.message}`));
  page.on("request", (r) => requests.push(r.url()));
  page.on("websocket", (ws) => requests.push(ws.url()));
  return { page, errors, requests, close: () => context.close() };
}
