/**
 * `tickring serve`'s options from the command line, the environment and a config file, through the built
 * CLI in a child process: a bad value exits 2 with one line naming the option as the user wrote it, and
 * `TICKRING_<FLAG>` variables reach the daemon, units included.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { Client, startDaemon, tempDir } from "../support/daemon.js";
import { oneLine, run } from "./run.js";

const dir = tempDir("tickring-cli-serve-");
after(() => dir.remove());

/**
 * `tickring serve ARGS` on a free port and a temp data dir, expected to refuse its options. Were it to
 * start instead, the run's time-out ends it and the assertions fail.
 */
async function refused(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await run(["serve", "--port", "0", "--data", join(dir.path, "data"), ...args], env);
  assert.equal(r.code, 2, r.stderr);
  return oneLine(r);
}

test("a bad value is named as given: the flag, the variable, the config file's key", async () => {
  assert.match(await refused(["--delay", "5x"]), /^tickring: --delay: .*"5x"$/);
  assert.match(await refused([], { TICKRING_DELAY: "5x" }), /^tickring: TICKRING_DELAY: .*"5x"$/);
  const config = join(dir.path, "config.json");
  writeFileSync(config, JSON.stringify({ delay: "5x" }));
  assert.match(await refused(["--config", config]), new RegExp(`^tickring: ${config}: delay: .*"5x"$`));
});

test("a duration without a unit is refused, not read as milliseconds", async () => {
  assert.match(await refused(["--retain-wal", "30"]), /^tickring: --retain-wal: "30" has no unit/);
  assert.match(
    await refused([], { TICKRING_RETAIN_STORE: "7" }),
    /^tickring: TICKRING_RETAIN_STORE: "7" has no unit/,
  );
});

test("an unknown TICKRING_ variable is refused, naming it", async () => {
  assert.match(
    await refused([], { TICKRING_DELAY_MS: "1000" }),
    /^tickring: TICKRING_DELAY_MS: not a tickring variable \(did you mean TICKRING_DELAY\?\)$/,
  );
});

test("TICKRING_DELAY=3s holds the delayed feed back 3 s", async () => {
  process.env.TICKRING_DELAY = "3s"; // the daemon's child process inherits it
  const data = tempDir();
  try {
    const daemon = await startDaemon(data.path, ["--workers", "1"]);
    delete process.env.TICKRING_DELAY;
    const c = await Client.connect(daemon.url("/v1/feed"));
    c.send({ op: "subscribe", id: 1, symbols: ["*"], feed: "delayed", format: "json" });
    await c.until(() => c.text.some((m) => m.op === "subscribed"), "subscribed");
    assert.equal(c.text.find((m) => m.op === "subscribed")!.delay_ms, 3000);
    c.ws.close();
    assert.equal(await daemon.stop(), 0);
  } finally {
    delete process.env.TICKRING_DELAY;
    data.remove();
  }
});

test("replication flags that do not go together exit 2 with one line", async () => {
  assert.match(
    await refused(["--follow", "nats://127.0.0.1:4222", "--standby"]),
    /^tickring: --standby: is for a leader \(--replicate\), not with --follow$/,
  );
  assert.match(await refused(["--ack-after", "replicated"]), /^tickring: --ack-after: needs --replicate/);
});
