/**
 * The dashboard end to end: a real daemon with the demo feed, the page loaded from it in headless Chromium.
 * Every wait is for a condition on the page (generous timeouts, never a duration asserted). Each test checks
 * the console stayed free of errors and that the page asked nothing of anyone but the daemon; screenshots
 * go to test-results/dashboard/ (not committed).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { until as poll } from "../../bench/replication/poll.js";
import { artefactDir, launchChromium, openPage, type WatchedPage } from "../support/browser.js";
import { type Daemon, startDaemon, suiteDaemon, tempDir } from "../support/daemon.js";
import { NO_NATS, type NatsServer, startNats } from "../replication/helpers.js";

/** Time any one condition may take on a loaded machine. */
const WAIT = { timeout: 60_000 };

/**
 * Waits until `check` holds. Checks run in Node through playwright's locators and `page.evaluate`, which the
 * page's CSP does not govern (`waitForFunction` with an expression evaluates it in the page, and a strict
 * CSP refuses that: no `unsafe-eval`).
 */
function until(what: string, check: () => Promise<boolean>): Promise<void> {
  return poll(check, what, WAIT.timeout);
}
const SYMBOLS = 20;
const shots = artefactDir("dashboard");

/** The number a figure of the page shows (`163,452` → 163452; NaN for `–`). */
async function number(page: Page, id: string): Promise<number> {
  return Number(((await page.textContent(`#${id}`)) ?? "").replace(/,/g, ""));
}

/** How many elements match `selector`. */
function count(page: Page, selector: string): Promise<number> {
  return page.locator(selector).count();
}

describe("dashboard in Chromium", () => {
  const daemon = suiteDaemon(["--demo", `${SYMBOLS}:1000`, "--bars", "1s,1m"]);
  let browser: Browser;
  let origin: string;
  before(async () => {
    browser = await launchChromium();
    origin = `http://127.0.0.1:${daemon().port}`;
  });
  after(async () => browser?.close());

  /** Opens the dashboard at `size`; after `fn`, the console must be clean and every request the daemon's. */
  async function withPage(
    size: { width: number; height: number },
    scheme: "light" | "dark",
    fn: (p: WatchedPage) => Promise<void>,
  ): Promise<void> {
    const p = await openPage(browser, { viewport: size, colorScheme: scheme });
    try {
      await p.page.goto(`${origin}/dashboard`);
      await fn(p);
      assert.deepEqual(p.errors, [], "no errors in the browser console");
      const elsewhere = p.requests.filter(
        (u) => !u.startsWith(origin) && !u.startsWith(`ws://127.0.0.1:${daemon().port}/`),
      );
      assert.deepEqual(elsewhere, [], "everything the page loads comes from the daemon");
    } finally {
      await p.close();
    }
  }

  test("the page loads from the daemon with a strict CSP, and its figures move", async () => {
    const res = await fetch(`${origin}/dashboard`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    await withPage({ width: 1280, height: 800 }, "light", async ({ page }) => {
      await page.waitForSelector('#conn[data-ok="true"]', WAIT);
      await until("the acked seq shows", async () => (await number(page, "k-acked")) > 0);
      const acked = await number(page, "k-acked");
      await until("the acked seq moves", async () => (await number(page, "k-acked")) > acked);
      // Rates need two readings: then the frames sent (to this page, at least) show.
      await until("frames sent per second show", async () =>
        /\d/.test((await page.textContent("#k-sent")) ?? ""),
      );
      assert.match((await page.textContent("#k-ingest")) ?? "", /\d/);
      assert.ok((await number(page, "k-clients")) >= 1, "the page's own connection counts");
      // A row per socket worker: 2 asked for, 1 on the ws transport where Node cannot share a port.
      const stats = (await (await fetch(`${origin}/v1/stats`)).json()) as { workers: unknown[] };
      assert.equal(await count(page, "#workers-body tr"), stats.workers.length);
      assert.ok(stats.workers.length > 0);
      assert.ok((await count(page, "#rate-chart canvas")) > 0, "the throughput chart is drawn");
      await page.screenshot({ path: join(shots, "desktop-light.png"), fullPage: true });
    });
  });

  test("the symbols table fills, sorts and filters; a symbol is picked with the keyboard", async () => {
    await withPage({ width: 1280, height: 800 }, "light", async ({ page }) => {
      await until("every symbol has a row", async () => (await count(page, "#symbols-body tr")) === SYMBOLS);
      // By symbol at first; the header's button reverses it; another column's sorts by that.
      const symbols = await page.locator("#symbols-body tr th").allTextContents();
      assert.deepEqual(symbols, [...symbols].sort(), "sorted by symbol");
      assert.equal(await page.getAttribute('#symbols-table th[data-key="symbol"]', "aria-sort"), "ascending");
      await page.click('#symbols-table button[data-sort="symbol"]');
      assert.equal(
        await page.getAttribute('#symbols-table th[data-key="symbol"]', "aria-sort"),
        "descending",
      );
      assert.deepEqual(await page.locator("#symbols-body tr th").allTextContents(), [...symbols].reverse());
      await page.click('#symbols-table button[data-sort="ticksPerSec"]');
      assert.equal(
        await page.getAttribute('#symbols-table th[data-key="ticksPerSec"]', "aria-sort"),
        "descending",
      );
      assert.equal(await page.getAttribute('#symbols-table th[data-key="symbol"]', "aria-sort"), null);
      await page.click('#symbols-table button[data-sort="symbol"]');
      await page.fill("#symbols-filter", "sym");
      await until("the filter applies", async () => (await count(page, "#symbols-body tr")) === SYMBOLS - 10);
      const filtered = await page.locator("#symbols-body tr th").allTextContents();
      assert.ok(
        filtered.every((s) => s.startsWith("SYM")),
        "the ten named demo symbols are out",
      );
      await page.fill("#symbols-filter", "");

      // Tab from the top of the page to the first symbol's button, then Enter picks it.
      await page.locator("body").focus();
      let active = "";
      for (let i = 0; i < 40 && active !== "pick"; i++) {
        await page.keyboard.press("Tab");
        active = await page.evaluate("document.activeElement.className");
      }
      assert.equal(active, "pick", "a symbol's button is reachable with Tab");
      const symbol = await page.evaluate("document.activeElement.textContent");
      await page.keyboard.press("Enter");
      await until(
        "the chart follows the symbol",
        async () => (await page.textContent("#chart-title")) === symbol,
      );
      await page.waitForSelector("#tape li:not([hidden])", WAIT);
      // Candles: the history from /v1/bars, then live bars (1 s bars close every second).
      const candles = async () => Number(await page.getAttribute("#candles", "data-candles"));
      await until("candles are drawn", async () => (await candles()) > 0);
      const drawn = await candles();
      await until("live bars add candles", async () => (await candles()) > drawn);
      assert.ok((await count(page, "#candles canvas")) > 0);
      await page.click('#intervals button[data-interval="60"]');
      assert.equal(await page.getAttribute('#intervals button[data-interval="60"]', "aria-pressed"), "true");
      await until("the 1 m chart has its candle", async () => (await candles()) > 0);
      assert.equal(await page.textContent('button.pick[aria-pressed="true"]'), symbol);
      await page.screenshot({ path: join(shots, "symbol-picked.png"), fullPage: true });
    });
  });

  test("dark theme, following the browser", async () => {
    await withPage({ width: 1280, height: 800 }, "dark", async ({ page }) => {
      await until("the acked seq shows", async () => (await number(page, "k-acked")) > 0);
      assert.equal(await page.evaluate("getComputedStyle(document.body).backgroundColor"), "rgb(13, 17, 23)");
      await page.screenshot({ path: join(shots, "desktop-dark.png"), fullPage: true });
    });
  });

  test("a phone-sized viewport: one column, nothing wider than the screen", async () => {
    await withPage({ width: 390, height: 844 }, "light", async ({ page }) => {
      await until("symbols show", async () => (await count(page, "#symbols-body tr")) > 0);
      await until("the acked seq shows", async () => (await number(page, "k-acked")) > 0);
      assert.ok(
        await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"),
        "no horizontal scrolling of the page",
      );
      await page.screenshot({ path: join(shots, "phone.png"), fullPage: true });
    });
  });
});

describe("dashboard of a replication group's leader", { skip: NO_NATS }, () => {
  let nats: NatsServer;
  let leader: Daemon;
  let browser: Browser;
  const dir = tempDir();
  before(async () => {
    nats = await startNats();
    leader = await startDaemon(dir.path, ["--workers", "1", "--replicate", nats.url, "--demo", "5:200"]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    if (leader !== undefined) assert.equal(await leader.stop(), 0, leader.stderr());
    await nats?.stop();
    dir.remove();
  });

  test("the replication panel shows the node's role and its replicated seq", async () => {
    const p = await openPage(browser, { viewport: { width: 1280, height: 800 } });
    try {
      await p.page.goto(`http://127.0.0.1:${leader.port}/dashboard`);
      await p.page.waitForSelector("#replication-panel:not([hidden])", WAIT);
      await until("the node leads", async () => (await p.page.textContent("#r-role")) === "leader");
      await until("the replicated seq moves", async () => (await number(p.page, "r-seq")) > 0);
      assert.equal(await p.page.textContent("#r-stream"), "tickring");
      await p.page.screenshot({ path: join(shots, "replication.png"), fullPage: true });
      assert.deepEqual(p.errors, [], "no errors in the browser console");
    } finally {
      await p.close();
    }
  });
});
