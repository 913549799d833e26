/**
 * Dashboard benchmark: what the page (`GET /dashboard`) costs a browser. Headless Chromium loads it from a
 * real daemon, once against a daemon with no feed (the baseline: the page at rest, polling /v1/stats) and
 * once against the demo feed (default 50 symbols at 10K ticks/s, a symbol picked so the chart and the tape
 * run). For each, from the Chrome DevTools Protocol:
 *
 * - weight: bytes transferred for the page's own files (`Network.loadingFinished`'s encodedDataLength:
 *   compressed bytes on the wire, headers included), on a first visit and on a reload (revalidated page,
 *   cached files);
 * - CPU: the renderer's main-thread busy time over the window (`Performance.getMetrics` TaskDuration) and
 *   the renderer process's CPU time (`SystemInfo.getProcessInfo`), each as a share of one core;
 * - the feed's bytes per second into the page (WebSocket frames received).
 *
 * The load average is printed with the figures: on a busy machine CPU shares are what they are, but the
 * ratio of the two scenarios, taken in the same browser minutes apart, says what the feed adds.
 *
 *   node dist/bench/dashboard/dashboard.bench.js [flags]   (flags: bench/catalog.ts, or --help)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, CDPSession } from "playwright-core";
import { spawnDaemon } from "../../src/daemon/child-process.js";
import { DASHBOARD } from "../catalog.js";
import { benchFlags } from "../flags.js";
import { until } from "../replication/poll.js";
import { launchChromium } from "./chromium.js";

const values = benchFlags(DASHBOARD);
const seconds = values.smoke ? 1 : values.duration;
const symbols = values.smoke ? 10 : values.symbols;
const rate = values.smoke ? 1000 : values.rate;
/** Time for the page to fill its table and draw before the window opens. */
const SETTLE_MS = values.smoke ? 500 : 3000;

interface Scenario {
  label: string;
  /** Weight of the page's own files, first visit and reload (KB transferred). */
  firstVisitKB: number;
  reloadKB: number;
  /** Shares of one core over the window. */
  mainThreadCpu: number;
  rendererCpu: number;
  /** Feed bytes into the page per second. */
  feedKBPerSec: number;
  /** The daemon's ingest rate at the end of the window. */
  ingestPerSec: number;
}

/** Sums the compressed bytes of the page's own files (not /v1/stats nor the feed) loaded through `cdp`. */
function weigher(cdp: CDPSession, origin: string): { reset(): void; kb(): number } {
  const urls = new Map<string, string>();
  let bytes = 0;
  cdp.on("Network.requestWillBeSent", (e) => urls.set(e.requestId, e.request.url));
  cdp.on("Network.loadingFinished", (e) => {
    if (urls.get(e.requestId)?.startsWith(`${origin}/dashboard`)) bytes += e.encodedDataLength;
  });
  return {
    reset: () => {
      bytes = 0;
    },
    kb: () => bytes / 1024,
  };
}

/** CPU seconds of every renderer process so far. */
async function rendererCpu(browserCdp: CDPSession): Promise<number> {
  const { processInfo } = (await browserCdp.send("SystemInfo.getProcessInfo")) as {
    processInfo: { type: string; cpuTime: number }[];
  };
  return processInfo.filter((p) => p.type === "renderer").reduce((s, p) => s + p.cpuTime, 0);
}

async function taskSeconds(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send("Performance.getMetrics");
  return metrics.find((m) => m.name === "TaskDuration")?.value ?? 0;
}

async function run(browser: Browser, label: string, demo: string[]): Promise<Scenario> {
  const data = mkdtempSync(join(tmpdir(), "tickring-dashboard-bench-"));
  const daemon = await spawnDaemon(["--port", "0", "--data", data, "--workers", "2", ...demo]);
  const origin = `http://127.0.0.1:${daemon.port}`;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const browserCdp = await browser.newBrowserCDPSession();
    await cdp.send("Network.enable");
    await cdp.send("Performance.enable");
    const weight = weigher(cdp, origin);
    let feedBytes = 0;
    cdp.on("Network.webSocketFrameReceived", (e) => {
      feedBytes += e.response.payloadData.length;
    });

    await page.goto(`${origin}/dashboard`);
    await until(async () => /\d/.test((await page.textContent("#k-acked")) ?? ""), "the stats", 60_000);
    const firstVisitKB = weight.kb();
    weight.reset();
    await page.reload();
    await until(async () => /\d/.test((await page.textContent("#k-acked")) ?? ""), "the stats again", 60_000);
    const reloadKB = weight.kb();
    if (demo.length > 0) {
      await until(
        async () => (await page.locator("#symbols-body tr").count()) >= symbols,
        "the symbols",
        60_000,
      );
      await page.click("#symbols-body tr:first-child button.pick");
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS));

    const wall0 = performance.now();
    const task0 = await taskSeconds(cdp);
    const cpu0 = await rendererCpu(browserCdp);
    const feed0 = feedBytes;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const wall = (performance.now() - wall0) / 1000;
    const task = (await taskSeconds(cdp)) - task0;
    const cpu = (await rendererCpu(browserCdp)) - cpu0;
    const feed = feedBytes - feed0;
    const stats = (await (await fetch(`${origin}/v1/stats`)).json()) as { ingest: { ratePerSec: number } };
    await browserCdp.detach();
    return {
      label,
      firstVisitKB,
      reloadKB,
      mainThreadCpu: task / wall,
      rendererCpu: cpu / wall,
      feedKBPerSec: feed / 1024 / wall,
      ingestPerSec: stats.ingest.ratePerSec,
    };
  } finally {
    await context.close();
    await daemon.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

const load = loadavg();
const browser = await launchChromium();
let baseline: Scenario;
let demo: Scenario;
try {
  process.stderr.write("dashboard: idle daemon …");
  baseline = await run(browser, "idle daemon (baseline)", []);
  process.stderr.write(` demo feed ${symbols}:${rate} …`);
  demo = await run(browser, `demo feed ${symbols} symbols @ ${rate}/s`, ["--demo", `${symbols}:${rate}`]);
  process.stderr.write(" done\n");
} finally {
  await browser.close();
}
const loadAfter = loadavg();
const ratio = demo.mainThreadCpu / Math.max(baseline.mainThreadCpu, 1e-6);

if (values.json) {
  console.log(
    JSON.stringify({
      bench: "dashboard",
      seconds,
      cores: cpus().length,
      loadavg: { before: load, after: loadAfter },
      baseline,
      demo,
      ratio,
    }),
  );
} else {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const row = (s: Scenario) =>
    `${s.label.padEnd(34)} ${s.firstVisitKB.toFixed(1).padStart(8)} ${s.reloadKB.toFixed(1).padStart(8)} ` +
    `${pct(s.mainThreadCpu).padStart(9)} ${pct(s.rendererCpu).padStart(9)} ${s.feedKBPerSec.toFixed(0).padStart(9)} ` +
    `${String(s.ingestPerSec).padStart(8)}`;
  console.log(`dashboard in headless Chromium, ${seconds} s windows, ${cpus().length} cores`);
  console.log(
    `load average before ${load.map((l) => l.toFixed(2)).join(" ")}, after ${loadAfter.map((l) => l.toFixed(2)).join(" ")}`,
  );
  console.log(
    `${"scenario".padEnd(34)} ${"1st KB".padStart(8)} ${"reload".padStart(8)} ${"main thr".padStart(9)} ${"renderer".padStart(9)} ${"feed KB/s".padStart(9)} ${"ingest/s".padStart(8)}`,
  );
  console.log(row(baseline));
  console.log(row(demo));
  console.log(`main-thread CPU, demo / idle: ${ratio.toFixed(2)}×`);
}
