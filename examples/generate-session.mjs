#!/usr/bin/env node
// Writes examples/session-2026-11-23.csv.gz: one synthetic US equity session (09:30–16:00 New York,
// 14:30–21:00 UTC) of quotes and trades for five symbols — random-walk mid prices, spreads of a cent or
// two, round-lot sizes, trades at the bid or the ask, more activity at the open and the close. The
// generator is seeded, so the file it writes is always the same.
//
//   node examples/generate-session.mjs            # rewrites the file
//   tickring import csv examples/session-2026-11-23.csv.gz --data ./data
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const OUT = join(dirname(fileURLToPath(import.meta.url)), "session-2026-11-23.csv.gz");
const OPEN_NS = BigInt(Date.UTC(2026, 10, 23, 14, 30)) * 1_000_000n;
const SESSION_S = 6.5 * 3600;
const SYMBOLS = [
  { symbol: "AAPL", price: 229.4, vol: 0.012, perS: 1.1 },
  { symbol: "MSFT", price: 421.1, vol: 0.011, perS: 0.8 },
  { symbol: "NVDA", price: 146.3, vol: 0.022, perS: 1.3 },
  { symbol: "AMZN", price: 201.7, vol: 0.016, perS: 0.7 },
  { symbol: "SPY", price: 596.2, vol: 0.007, perS: 1.4 },
];

// mulberry32: small, seeded, good enough for synthetic prices.
let seed = 20261123;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const exponential = (rate) => -Math.log(1 - random()) / rate;
/** Activity over the day: a U shape, three times busier at the open and the close than at noon. */
const intensity = (s) => 1 + 2 * Math.pow((2 * s) / SESSION_S - 1, 4);
const cents = (x) => Math.round(x * 100) / 100;
const lots = () => 100 * (1 + Math.floor(exponential(0.5)));

/** ns since the session opened → ISO-8601 with nanoseconds. */
function iso(ns) {
  const t = OPEN_NS + ns;
  const ms = t / 1_000_000n;
  return new Date(Number(ms)).toISOString().replace("Z", `${String(t % 1_000_000n).padStart(6, "0")}Z`);
}

const events = [];
for (const s of SYMBOLS) {
  let mid = s.price;
  const perSecondVol = s.vol / Math.sqrt(SESSION_S);
  for (let t = 0; ; ) {
    t += exponential(s.perS * intensity(t));
    if (t >= SESSION_S) break;
    mid *= Math.exp(perSecondVol * normal() * 0.6);
    const half = random() < 0.7 ? 0.005 : 0.01;
    const bid = cents(mid - half);
    const ask = Math.max(cents(mid + half), bid + 0.01);
    const ns = BigInt(Math.floor(t * 1e9));
    events.push({ ns, row: `quote,${s.symbol},${iso(ns)},,,,${bid.toFixed(2)},${lots()},${ask.toFixed(2)},${lots()}` });
    if (random() < 0.45) {
      const buy = random() < 0.5;
      const tns = ns + BigInt(Math.floor(random() * 1e6));
      const size = random() < 0.3 ? 1 + Math.floor(random() * 99) : lots();
      events.push({ ns: tns, row: `trade,${s.symbol},${iso(tns)},${(buy ? ask : bid).toFixed(2)},${size},${buy ? "buy" : "sell"},,,,` });
    }
  }
}
events.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
const header = "type,symbol,ts_event,price,size,aggressor,bid_price,bid_size,ask_price,ask_size";
const csv = [header, ...events.map((e) => e.row)].join("\n") + "\n";
writeFileSync(OUT, gzipSync(csv, { level: 9 }));
const trades = events.filter((e) => e.row.startsWith("trade")).length;
console.log(`${OUT}: ${events.length} rows (${trades} trades, ${events.length - trades} quotes), ${csv.length} bytes of CSV`);
