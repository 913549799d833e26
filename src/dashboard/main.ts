/**
 * The dashboard page (`GET /dashboard`): wires the feed connection, the stats poller and the panels.
 *
 * Frames only update models (a map lookup and a few stores each); the symbols table and the tape are drawn
 * on animation frames a few times a second, only when their model changed, and the stats panels once per
 * reading. The page asks for nothing needing a token until the feed has been admitted, so a daemon with auth
 * on shows the token prompt without an HTTP error first.
 */
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { CandlePanel } from "./candle-panel.js";
import { byId, setText } from "./dom.js";
import { FeedConnection } from "./feed-connection.js";
import { grantsOf } from "./grants.js";
import { StatsPanels } from "./stats-panels.js";
import { StatsPoller } from "./stats-poller.js";
import { SymbolsPanel } from "./symbols-panel.js";
import { SymbolTable } from "./symbols.js";
import { TapePanel } from "./tape-panel.js";
import { TradeTape } from "./tape.js";
import { tokenStore, TokenPrompt } from "./token.js";

/**
 * How often the market panels are drawn: the symbols table, and the chosen symbol's chart and tape. At 10K
 * ticks/s every figure in sight moves between two draws, and each draw lays out and paints them all (the
 * tape turns over whole: a symbol trades about 80 times a second). Twice a second is as live as anyone reads,
 * and costs half of four times (bench/dashboard).
 */
const DRAWS_PER_SEC = 2;
/** As many trades as the tape shows beside the chart. */
const TAPE_TRADES = 18;

const table = new SymbolTable();
const tape = new TradeTape(TAPE_TRADES);
const statsPanels = new StatsPanels();
const tapePanel = new TapePanel(tape);
const candlePanel = new CandlePanel({
  token: () => tokenStore.get(),
  unauthorized: (message) => tokenPrompt.ask(`The daemon refused the token: ${message}`),
});
const symbolsPanel = new SymbolsPanel(table, pick);

const stats = new StatsPoller(() => tokenStore.get(), {
  view: (v) => {
    byId("stats-note").hidden = true;
    statsPanels.draw(v);
  },
  failed: (status, message) => {
    if (status === 401) tokenPrompt.ask(`The daemon refused the token: ${message}`);
    else if (status === 403) hideOps(`Operations figures are hidden: ${message}`);
    else note(`Operations figures unavailable (${status || "network"}): ${message}`);
  },
});

const feed = new FeedConnection(
  `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/feed`,
  () => tokenStore.get(),
  {
    frames: (frames) => {
      for (const f of frames) {
        table.onFrame(f);
        tape.onFrame(f);
        candlePanel.onFrame(f);
      }
    },
    subscribed: (seq) => table.liveFrom(seq),
    admitted: () => {
      // A token that may not read /v1/stats is not made to try (the 403 would be an error in the console).
      const token = tokenStore.get();
      if (token !== undefined && grantsOf(token).stats === false) {
        hideOps(
          "Operations figures are hidden: this token has neither the metrics nor the admin permission.",
        );
      } else {
        delete document.body.dataset.ops;
        stats.start();
      }
    },
    status: (text, ok) => {
      const el = byId("conn");
      setText(el, text);
      el.dataset.ok = String(ok);
    },
    unauthorized: (message) => {
      stats.stop();
      tokenPrompt.ask(
        tokenStore.get() === undefined
          ? "This daemon runs with auth on: the dashboard needs a token (tickring token create makes one)."
          : `The daemon refused the token: ${message}`,
      );
    },
  },
);

const tokenPrompt = new TokenPrompt(() => {
  stats.stop();
  feed.stop();
  feed.start();
});

/** A note above the panels. */
function note(text: string): void {
  const el = byId("stats-note");
  el.hidden = false;
  setText(el, text);
}

/** Leaves the operations panels out, saying why: the page shows market data only. */
function hideOps(why: string): void {
  stats.stop();
  document.body.dataset.ops = "off";
  note(why);
}

/** Chooses the symbol the chart and the tape follow. */
function pick(symbol: string): void {
  setText(byId("chart-title"), symbol);
  byId("candles-hint").hidden = true;
  tape.follow(symbol);
  candlePanel.show(symbol);
  symbolsPanel.choose(symbol);
}

// Ticks per second are counted over whole seconds.
setInterval(() => table.roll(Date.now()), 1000);

drawEvery(1000 / DRAWS_PER_SEC, () => {
  symbolsPanel.draw();
  tapePanel.draw();
  candlePanel.draw();
});

/** Runs `draw` on an animation frame every `ms`: never while the tab is hidden, never two queued. */
function drawEvery(ms: number, draw: () => void): void {
  let pending = false;
  setInterval(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  }, ms);
}

feed.start();
