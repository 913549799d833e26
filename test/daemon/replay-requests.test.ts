import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { frameSeq } from "../../src/frame/codec.js";
import { applyRetention, openWalReader, Store, Wal } from "../../src/storage/index.js";
import { makeFrames, tsOf } from "../storage/helpers.js";
import { Client, type Daemon, framesOf, startDaemon, tempDir } from "../support/daemon.js";

const N = 3000;

/**
 * A data dir whose oldest seqs retention took from both the store and the WAL: built offline, then served.
 */
async function retiredDataDir(data: string): Promise<number> {
  const walDir = join(data, "wal");
  const { wal } = await Wal.open({ dir: walDir, fsync: "os", segmentBytes: 32 * 1024 });
  for (const [i, f] of makeFrames(1, N).entries()) wal.append(f, i + 1);
  wal.write();
  await wal.flush();
  const store = await Store.open({ dir: join(data, "store") });
  const r = openWalReader(walDir, 1);
  for (let b = r.nextSync(); b !== null; b = r.nextSync()) await store.index(b);
  r.close();
  await store.deleteOlderThan(tsOf(1000));
  await applyRetention(wal, store, { walMaxBytes: 64 * 1024 });
  const oldest = await store.firstSeq();
  await wal.close();
  await store.close();
  return oldest;
}

describe("historical requests the daemon can only refuse or qualify", () => {
  const dir = tempDir();
  let daemon: Daemon;
  let oldest = 0;
  before(async () => {
    oldest = await retiredDataDir(dir.path);
    daemon = await startDaemon(dir.path);
  });
  after(async () => {
    assert.equal(await daemon.stop(), 0, daemon.stderr());
    dir.remove();
  });

  test("a replay from a range retention removed says so with a gap, then starts at the oldest seq kept", async () => {
    assert.ok(oldest > 1 && oldest < N, `retention kept from ${oldest}`);
    const c = await Client.connect(daemon.url("/v1/feed"));
    c.send({ op: "subscribe", id: 4, symbols: ["*"], feed: "historical", from: { seq: 1 }, to: { seq: N } });
    const done = await c.nextOp("replay_done");
    assert.equal(done.last_seq, N);
    const gap = await c.nextOp("gap");
    assert.deepEqual(gap, { op: "gap", id: 4, from: 1, to: oldest - 1, reason: "retired" });
    assert.deepEqual(
      framesOf(c.binary).map((f) => frameSeq(f, 0)),
      Array.from({ length: N - oldest + 1 }, (_, i) => oldest + i),
    );
    c.close();
  });

  test("a replay from past the newest seq is refused with OUT_OF_RANGE and the subscription id", async () => {
    const c = await Client.connect(daemon.url("/v1/feed"));
    c.send({ op: "subscribe", id: 9, symbols: ["*"], feed: "historical", from: { seq: N + 10 } });
    const err = await c.nextOp("error");
    assert.equal(err.code, "OUT_OF_RANGE");
    assert.equal(err.id, 9);
    assert.match(String(err.message), new RegExp(`newest seq ${N}`));
    c.close();
  });
});
