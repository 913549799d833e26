// Takes the README's picture of the dashboard (docs/dashboard.png): a demo daemon on a temp data dir, the
// page in headless Chromium at 1280×800 (light theme), AAPL picked, once the charts have a minute of data.
// Needs a build and Chromium (npm run build; sh scripts/install-chromium.sh).
//
//   npm run screenshot
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { spawnDaemon } = await import(join(root, "dist/src/daemon/child-process.js"));
const { launchChromium } = await import(join(root, "dist/bench/dashboard/chromium.js"));
const out = join(root, "docs/dashboard.png");
/** How long the charts gather points before the picture. */
const FILL_MS = 60_000;

const data = mkdtempSync(join(tmpdir(), "tickring-screenshot-"));
const daemon = await spawnDaemon(["--port", "0", "--data", data, "--workers", "2", "--demo"]);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
  await page.goto(`http://127.0.0.1:${daemon.port}/dashboard`);
  await page.waitForSelector('#symbols-body button.pick:text-is("AAPL")', { timeout: 60_000 });
  await page.click('#symbols-body button.pick:text-is("AAPL")');
  await sleep(FILL_MS);
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await daemon.stop();
  rmSync(data, { recursive: true, force: true });
}
