/**
 * Headless Chromium for the dashboard's benchmark, its end-to-end tests (test/support/browser.ts) and the
 * README's screenshot (scripts/dashboard-screenshot.mjs): Debian's `chromium`, installed by
 * scripts/install-chromium.sh, driven by playwright-core through its executable path — playwright's own
 * browser download is never used. The flags keep the browser off the network.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** The Chromium binary: `CHROMIUM_PATH`, else Debian's. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Flags that keep a test browser from calling home (updates, sync, field trials). */
export const OFFLINE_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Starts headless Chromium (a fresh profile); fails saying how to get one when there is none. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: run sh scripts/install-chromium.sh, or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: OFFLINE_FLAGS });
}
