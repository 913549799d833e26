/**
 * The daemon's options through both entries: the embedding API (typed, a number in its key's unit) and the
 * CLI's sources (flags, `TICKRING_<FLAG>` variables, the config file), errors naming the option as the
 * user wrote it, durations from text with a unit, sizes with or without one.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  defaultServeOptions,
  resolveCliServeOptions,
  resolveServeOptions,
  serveFlags,
} from "../../src/config/options.js";
import { OptionError } from "../../src/errors.js";
import { tempDir } from "../support/daemon.js";

const dir = tempDir("tickring-options-");
after(() => dir.remove());

function configFile(name: string, content: unknown): string {
  const path = join(dir.path, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

/** Asserts that `fn` throws an OptionError on `option` whose message matches `message`. */
function refuses(fn: () => unknown, option: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof OptionError, String(err));
    assert.equal(err.option, option, err.message);
    assert.ok(err.message.startsWith(`${option}: `), err.message);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

test("an option error names the flag, the variable or the file's key the user wrote", () => {
  refuses(() => resolveCliServeOptions({ flags: { delay: "5x" } }), "--delay", /"5x"/);
  refuses(() => resolveCliServeOptions({ env: { TICKRING_DELAY: "5x" } }), "TICKRING_DELAY", /"5x"/);
  const byFlag = configFile("by-flag.json", { delay: "5x" });
  refuses(() => resolveCliServeOptions({ flags: { config: byFlag } }), `${byFlag}: delay`, /"5x"/);
  const byKey = configFile("by-key.json", { delayMs: "5x" });
  refuses(() => resolveCliServeOptions({ flags: { config: byKey } }), `${byKey}: delayMs`, /"5x"/);
  refuses(() => resolveServeOptions({ delayMs: "5x" as unknown as number }), "delayMs");
  refuses(() => resolveCliServeOptions({ flags: { "fsync-batch": "2x" } }), "--fsync-batch");
  refuses(() => resolveCliServeOptions({ flags: { "retain-wal-bytes": "lots" } }), "--retain-wal-bytes");
});

test("the environment mirrors the flags, units included", () => {
  const o = resolveCliServeOptions({
    env: {
      TICKRING_DELAY: "3s",
      TICKRING_FSYNC_BATCH: "5ms",
      TICKRING_RETAIN_WAL_BYTES: "1GiB",
      TICKRING_RETAIN_WAL: "2h",
      TICKRING_PORT: "9500",
      TICKRING_DEMO: "10:100",
      PATH: "/usr/bin",
    },
  });
  assert.equal(o.delayMs, 3000);
  assert.equal(o.fsyncBatchMs, 5);
  assert.equal(o.retainWalBytes, 2 ** 30);
  assert.equal(o.retainWalMs, 2 * 3_600_000);
  assert.equal(o.port, 9500);
  assert.deepEqual(o.demo, { symbols: 10, rate: 100 });
});

test("an unknown TICKRING_ variable is refused, naming it; the tests' own variables are not options", () => {
  refuses(
    () => resolveCliServeOptions({ env: { TICKRING_DELAY_MS: "1000" } }),
    "TICKRING_DELAY_MS",
    /did you mean TICKRING_DELAY\?/,
  );
  refuses(() => resolveCliServeOptions({ env: { TICKRING_PROT: "1" } }), "TICKRING_PROT", /TICKRING_PORT/);
  refuses(() => resolveCliServeOptions({ env: { TICKRING_WHATEVER: "1" } }), "TICKRING_WHATEVER");
  assert.equal(resolveCliServeOptions({ env: { TICKRING_CRASH_CYCLES: "5" } }).port, 9420);
});

test("flags win over the environment, which wins over the config file", () => {
  const config = configFile("layers.json", { port: 1, workers: 3, delay: "1m" });
  const env = { TICKRING_CONFIG: config, TICKRING_PORT: "2", TICKRING_DELAY: "2m" };
  const o = resolveCliServeOptions({ flags: { port: "3" }, env });
  assert.deepEqual([o.port, o.workers, o.delayMs], [3, 3, 120_000]);
  refuses(
    () => resolveCliServeOptions({ env: { TICKRING_CONFIG: join(dir.path, "absent.json") } }),
    "TICKRING_CONFIG",
    /ENOENT/,
  );
});

test("a config file takes option keys (typed) or flag names (as on the command line), not both", () => {
  const keys = configFile("keys.json", { delayMs: 900_000, retainWalBytes: 1e9, fsyncBatchMs: "3ms" });
  const k = resolveCliServeOptions({ flags: { config: keys } });
  assert.deepEqual([k.delayMs, k.retainWalBytes, k.fsyncBatchMs], [900_000, 1e9, 3]);
  const flags = configFile("flags.json", { delay: "15m", "retain-wal-bytes": "512MiB", "fsync-batch": "0" });
  const f = resolveCliServeOptions({ flags: { config: flags } });
  assert.deepEqual([f.delayMs, f.retainWalBytes, f.fsyncBatchMs], [900_000, 512 * 2 ** 20, 0]);
  const bare = configFile("bare.json", { "retain-wal": 30 });
  refuses(() => resolveCliServeOptions({ flags: { config: bare } }), `${bare}: retain-wal`, /no unit/);
  const both = configFile("both.json", { delay: "1m", delayMs: 60_000 });
  refuses(() => resolveCliServeOptions({ flags: { config: both } }), `${both}: delayMs`, /"delay"/);
  const typo = configFile("typo.json", { delay_ms: 1 });
  refuses(() => resolveCliServeOptions({ flags: { config: typo } }), `${typo}: delay_ms`, /delayMs/);
});

test("a duration from text needs a unit; a unit-less 0 only where 0 means off", () => {
  refuses(() => resolveCliServeOptions({ flags: { "retain-wal": "30" } }), "--retain-wal", /no unit/);
  refuses(() => resolveCliServeOptions({ flags: { "retain-wal": "0" } }), "--retain-wal", /no unit/);
  refuses(() => resolveCliServeOptions({ flags: { "retain-store": "7" } }), "--retain-store", /no unit/);
  refuses(() => resolveCliServeOptions({ flags: { heartbeat: "0" } }), "--heartbeat", /no unit/);
  refuses(() => resolveCliServeOptions({ flags: { heartbeat: "0s" } }), "--heartbeat", /at least 1ms/);
  refuses(() => resolveCliServeOptions({ env: { TICKRING_DELAY: "900000" } }), "TICKRING_DELAY", /no unit/);
  refuses(() => resolveServeOptions({ retainWalMs: "30" as unknown as number }), "retainWalMs", /no unit/);
  const o = resolveCliServeOptions({
    flags: { "retain-wal": "0s", delay: "0", "fsync-batch": "0", "snapshot-every": "0", heartbeat: "1.5s" },
  });
  assert.deepEqual(
    [o.retainWalMs, o.delayMs, o.fsyncBatchMs, o.snapshotEveryMs, o.heartbeatMs],
    [0, 0, 0, 0, 1500],
  );
  // Typed numbers from the embedding API keep their key's unit.
  const api = resolveServeOptions({ retainWalMs: 30, delayMs: 5000 });
  assert.deepEqual([api.retainWalMs, api.delayMs], [30, 5000]);
});

test("byte sizes take plain bytes or a unit, binary or decimal", () => {
  const sizes: [string, number][] = [
    ["65536", 65536],
    ["512KiB", 512 * 1024],
    ["1MiB", 2 ** 20],
    ["1GiB", 2 ** 30],
    ["1GB", 1e9],
    ["1.5 kb", 1500],
  ];
  for (const [text, bytes] of sizes) {
    assert.equal(
      resolveCliServeOptions({ flags: { "retain-store-bytes": text } }).retainStoreBytes,
      bytes,
      text,
    );
  }
  assert.equal(resolveCliServeOptions({ flags: { "ring-bytes": "1MiB" } }).ringBytes, 2 ** 20);
  refuses(() => resolveCliServeOptions({ flags: { "ring-bytes": "1MB" } }), "--ring-bytes", /power of two/);
  refuses(() => resolveCliServeOptions({ flags: { "wal-segment-bytes": "1KiB" } }), "--wal-segment-bytes");
  refuses(() => resolveCliServeOptions({ flags: { "retain-wal-bytes": "1.5B" } }), "--retain-wal-bytes");
  refuses(() => resolveCliServeOptions({ flags: { port: "1e3" } }), "--port");
});

test("--help's lines come from the same declaration: every option's flag, default and variable", () => {
  const flags = serveFlags();
  const keys = Object.keys(defaultServeOptions());
  assert.equal(flags.length, keys.length + 1); // and --config
  const delay = flags.find((f) => f.flag === "delay")!;
  assert.equal(delay.usage, "--delay <duration>");
  assert.match(delay.description, /default: 15m; env: TICKRING_DELAY\)/);
  const retain = flags.find((f) => f.flag === "retain-wal-bytes")!;
  assert.match(retain.description, /env: TICKRING_RETAIN_WAL_BYTES/);
  for (const f of flags) assert.match(f.description, /env: TICKRING_/, f.flag);
});

test("replication options: a node leads or follows, the leader's options need --replicate, a follower runs no demo", () => {
  const nats = "nats://127.0.0.1:4222";
  const leader = resolveCliServeOptions({
    flags: {
      replicate: `${nats},nats://127.0.0.1:4223`,
      "stream-replicas": "3",
      "ack-after": "replicated",
      standby: true,
    },
  });
  assert.equal(leader.replicate, `${nats},nats://127.0.0.1:4223`);
  assert.equal(leader.streamReplicas, 3);
  assert.equal(leader.ackAfter, "replicated");
  assert.equal(leader.standby, true);
  assert.equal(
    resolveCliServeOptions({ flags: { follow: nats, stream: "ticks-eu_1" } }).stream,
    "ticks-eu_1",
  );
  assert.equal(
    resolveCliServeOptions({ env: { TICKRING_REPLICATE: nats, TICKRING_STANDBY: "true" } }).standby,
    true,
  );

  refuses(
    () => resolveCliServeOptions({ flags: { replicate: nats, follow: nats } }),
    "--follow",
    /--replicate/,
  );
  refuses(() => resolveCliServeOptions({ flags: { standby: true } }), "--standby", /needs --replicate/);
  refuses(
    () => resolveCliServeOptions({ env: { TICKRING_STREAM: "x" } }),
    "TICKRING_STREAM",
    /needs --replicate/,
  );
  refuses(
    () => resolveCliServeOptions({ flags: { follow: nats, "ack-after": "replicated" } }),
    "--ack-after",
    /is for a leader/,
  );
  refuses(() => resolveCliServeOptions({ flags: { follow: nats, demo: true } }), "--demo", /takes no ingest/);
  refuses(
    () => resolveCliServeOptions({ flags: { replicate: nats, "stream-replicas": "2" } }),
    "--stream-replicas",
    /1, 3, 5/,
  );
  refuses(
    () => resolveCliServeOptions({ flags: { replicate: "127.0.0.1:4222" } }),
    "--replicate",
    /nats:\/\/host:port/,
  );
  refuses(
    () => resolveCliServeOptions({ flags: { replicate: nats, stream: "a.b" } }),
    "--stream",
    /letters, digits/,
  );
  // The embedding API gives every key: only values that differ from the defaults count as given.
  assert.equal(resolveServeOptions({ ...defaultServeOptions(), follow: nats }).follow, nats);
  refuses(() => resolveServeOptions({ follow: nats, standby: true }), "standby", /is for a leader/);
  assert.equal(serveFlags().find((f) => f.flag === "standby")!.usage, "--standby");
});
