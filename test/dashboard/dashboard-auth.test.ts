/**
 * The dashboard with auth on (a real daemon with --auth-secret-file, the page in headless Chromium): a load
 * without a token asks for one; a token with `metrics` shows everything; a token with market data only
 * shows its symbols and leaves the operations panels out without asking the daemon for them (no 403 in the
 * console); the token stays for the tab's session.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { until } from "../../bench/replication/poll.js";
import { tokenFor, writeSecret } from "../support/auth.js";
import { artefactDir, launchChromium, openPage, type WatchedPage } from "../support/browser.js";
import { type Daemon, startDaemon, tempDir } from "../support/daemon.js";

const WAIT = 60_000;
const shots = artefactDir("dashboard");

describe("dashboard with auth on", () => {
  const dir = tempDir();
  let daemon: Daemon;
  let browser: Browser;
  let secret: Uint8Array;
  before(async () => {
    const s = writeSecret(dir.path);
    secret = s.bytes;
    daemon = await startDaemon(join(dir.path, "data"), ["--demo", "20:500", "--auth-secret-file", s.path]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    if (daemon !== undefined) assert.equal(await daemon.stop(), 0, daemon.stderr());
    dir.remove();
  });

  /** Loads the page without a token: the prompt must show; then `token` is entered. */
  async function signIn(p: WatchedPage, token: string): Promise<void> {
    await p.page.goto(`http://127.0.0.1:${daemon.port}/dashboard`);
    await p.page.waitForSelector("#token-dialog[open]", { timeout: WAIT });
    assert.match((await p.page.textContent("#token-why")) ?? "", /needs a token/);
    await p.page.fill("#token-input", token);
    await p.page.click('#token-form button[type="submit"]');
  }

  const rows = (page: Page) => page.locator("#symbols-body tr th").allTextContents();

  test("without a token the page asks for one; with metrics it shows everything, and keeps the token", async () => {
    const token = await tokenFor(secret, "ops", { realtime: ["*"], metrics: true });
    const p = await openPage(browser, { viewport: { width: 1280, height: 800 } });
    try {
      await p.page.goto(`http://127.0.0.1:${daemon.port}/dashboard`);
      await p.page.waitForSelector("#token-dialog[open]", { timeout: WAIT });
      await p.page.screenshot({ path: join(shots, "auth-prompt.png") });
      await signIn(p, token);
      await p.page.waitForSelector('#conn[data-ok="true"]', { timeout: WAIT });
      await until(async () => /\d/.test((await p.page.textContent("#k-acked")) ?? ""), "the stats", WAIT);
      await until(async () => (await rows(p.page)).length === 20, "every symbol", WAIT);
      // Reloaded, the tab still has its token: no prompt.
      await p.page.reload();
      await until(
        async () => /\d/.test((await p.page.textContent("#k-acked")) ?? ""),
        "the stats again",
        WAIT,
      );
      assert.equal(await p.page.evaluate("document.getElementById('token-dialog').open"), false);
      assert.deepEqual(p.errors, [], "no errors in the browser console");
    } finally {
      await p.close();
    }
  });

  test("a token with market data only: its symbols, no operations panels, no admin claim needed", async () => {
    const token = await tokenFor(secret, "viewer", { realtime: ["A*"] });
    const p = await openPage(browser, { viewport: { width: 1280, height: 800 } });
    try {
      await signIn(p, token);
      await p.page.waitForSelector('#conn[data-ok="true"]', { timeout: WAIT });
      await until(async () => (await rows(p.page)).length > 0, "the token's symbols", WAIT);
      assert.ok(
        (await rows(p.page)).every((s) => s.startsWith("A")),
        "only the symbols the token allows",
      );
      await p.page.waitForSelector('body[data-ops="off"]', { timeout: WAIT });
      assert.match((await p.page.textContent("#stats-note")) ?? "", /neither the metrics nor the admin/);
      await p.page.screenshot({ path: join(shots, "auth-market-data-only.png"), fullPage: true });
      assert.deepEqual(p.errors, [], "no errors in the browser console: /v1/stats was not asked");
    } finally {
      await p.close();
    }
  });

  test("a refused token asks again, saying why", async () => {
    const expired = await tokenFor(secret, "late", { realtime: ["*"] }, 1000, Date.now() - 60_000);
    const p = await openPage(browser, { viewport: { width: 1280, height: 800 } });
    try {
      await signIn(p, expired);
      await until(
        async () => /refused the token/.test((await p.page.textContent("#token-why")) ?? ""),
        "the prompt again",
        WAIT,
      );
      assert.equal(await p.page.evaluate("document.getElementById('token-dialog').open"), true);
    } finally {
      await p.close();
    }
  });
});
