/**
 * `tickring token create`: mints an HS256 token with the daemon's `--auth-secret-file`, for operators and
 * tests. It prints the token alone on stdout, so `TOKEN=$(tickring token create …)` works.
 */
import type { Command } from "commander";
import type { TickringClaim } from "../auth/claims.js";
import { readSecret } from "../auth/keys.js";
import { patternProblem } from "../auth/patterns.js";
import { mintToken } from "../auth/token.js";
import { parseDuration } from "../config/duration.js";
import { OptionError } from "../errors.js";

interface Flags {
  secretFile: string;
  sub: string;
  ttl: string;
  realtime?: string;
  delayed?: string;
  history?: string;
  historyLookback?: string;
  ingest?: boolean;
  admin?: boolean;
  metrics?: boolean;
  maxConnections?: string;
  maxSubscriptions?: string;
}

export function registerTokenCommand(program: Command): void {
  program
    .command("token")
    .description("tokens for a daemon started with --auth-secret-file")
    .command("create")
    .description("print a signed token (HS256) granting what the flags say; nothing is granted unless given")
    .requiredOption("--secret-file <file>", "the daemon's --auth-secret-file")
    .requiredOption("--sub <subject>", "who the token is for (its max-connections count per subject)")
    .option("--ttl <duration>", "lifetime, e.g. 15m, 1h, 30d", "1h")
    .option("--realtime <patterns>", "symbols of the real-time feed: AAPL,MSFT,FX:* or *")
    .option("--delayed <patterns>", "symbols of the delayed feed (real-time symbols are included anyway)")
    .option("--history <patterns>", "symbols of historical replays")
    .option("--history-lookback <duration>", "how far back replays may start, e.g. 30d (default: no limit)")
    .option("--ingest", "may publish on /v1/ingest")
    .option("--admin", "may use /v1/admin/* (and read /metrics, /v1/stats)")
    .option("--metrics", "may read /metrics and /v1/stats")
    .option("--max-connections <n>", "open connections of this subject over all workers")
    .option("--max-subscriptions <n>", "subscriptions per connection")
    .action(async (flags: Flags) => {
      const ttlMs = parseDuration(flags.ttl);
      if (ttlMs === undefined || ttlMs < 1000) {
        throw new OptionError(
          "--ttl",
          `expected a duration of at least 1s like 15m or 1h, got "${flags.ttl}"`,
        );
      }
      const secret = readSecret(flags.secretFile, "--secret-file");
      const token = await mintToken(secret, { sub: flags.sub, claim: claimOf(flags), ttlMs });
      process.stdout.write(`${token}\n`);
    });
}

/** The `tickring` claim the flags ask for; each bad flag is an OptionError naming it. */
function claimOf(f: Flags): TickringClaim {
  const claim: TickringClaim = {};
  if (f.ingest === true) claim.ingest = true;
  if (f.admin === true) claim.admin = true;
  if (f.metrics === true) claim.metrics = true;
  for (const feed of ["realtime", "delayed", "history"] as const) {
    if (f[feed] !== undefined) claim[feed] = patterns(f[feed]!, `--${feed}`);
  }
  if (f.historyLookback !== undefined) {
    if (!(Number(parseDuration(f.historyLookback)) > 0)) {
      throw new OptionError("--history-lookback", `expected a duration like 30d, got "${f.historyLookback}"`);
    }
    claim.history_lookback = f.historyLookback;
  }
  if (f.maxConnections !== undefined) claim.max_connections = count(f.maxConnections, "--max-connections");
  if (f.maxSubscriptions !== undefined)
    claim.max_subscriptions = count(f.maxSubscriptions, "--max-subscriptions");
  return claim;
}

function patterns(list: string, option: string): string[] {
  const out = list
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  for (const p of out) {
    const problem = patternProblem(p);
    if (problem !== undefined) throw new OptionError(option, `"${p.slice(0, 40)}" ${problem}`);
  }
  return out;
}

function count(text: string, option: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1_000_000) {
    throw new OptionError(option, `expected an integer from 1 to 1000000, got "${text}"`);
  }
  return Number(text);
}
