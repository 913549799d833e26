/**
 * Corruption against the real daemon in a child process. Never an acked tick lost that survives elsewhere,
 * never a seq handed out twice:
 *
 * - a flipped byte in the active WAL segment whose seqs the store holds: the daemon starts, repairs the
 *   segment from the store, and every acked tick replays once with its original seq;
 * - the same with nothing holding the damaged record: the daemon refuses to start, naming the file, the
 *   offset and the seqs; `tickring wal repair` (a dry run) changes nothing; `--truncate-at-corruption` lets
 *   it start, and the next seq is above the highest seq acked;
 * - a WAL that ends below the highest seq acked: refused the same way;
 * - a damaged sealed segment (the newest sealed one, which the open verifies): the daemon starts and serves.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { AckedSeqFile, listSegments, Store } from "../../src/storage/index.js";
import { recordOffsets, xorByte } from "../storage/disk.js";
import { Client, type Daemon, framesOf, startDaemon, tempDir } from "../support/daemon.js";
import { cli, Publisher, resumedSeq, type SentTick, tickOf } from "./helpers.js";

const ARGS = ["--workers", "1", "--fsync", "batch", "--wal-segment-bytes", "65536"];

/** Runs a daemon on `data`, acks at least `n` ticks, waits until the store indexed them, then kill -9. */
async function ingestAndKill(data: string, n: number, args = ARGS): Promise<Map<number, SentTick>> {
  const daemon = await startDaemon(data, args);
  const pub = await Publisher.connect(daemon.url("/v1/ingest"));
  pub.start(10);
  await pub.ackedAtLeast(n);
  await pub.stop();
  await pub.drain();
  pub.close();
  const last = Math.max(...pub.acked.keys());
  await waitIndexed(daemon, last);
  await daemon.kill();
  return pub.acked;
}

/** Polls /v1/stats until the store's checkpoint reaches `seq`. */
async function waitIndexed(daemon: Daemon, seq: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const stats = (await (await fetch(`http://127.0.0.1:${daemon.port}/v1/stats`)).json()) as {
      indexing: { indexedSeq: number };
    };
    if (stats.indexing.indexedSeq >= seq) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the store did not reach seq ${seq}`);
}

/** Record offsets and seqs of a segment, read by their headers. */
function records(file: string, firstSeq: number): { seq: number; offset: number }[] {
  return recordOffsets(file).map((offset, i) => ({ seq: firstSeq + i, offset }));
}

/** Flips one bit of a byte inside the frame of the record at `offset`. */
function flipFrameByte(file: string, offset: number): void {
  xorByte(file, offset + 24, 0x04);
}

/** Every file of a data dir but the store's (name → bytes), to tell whether anything changed. */
function walState(data: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of readdirSync(join(data, "wal")))
    out.set(`wal/${name}`, readFileSync(join(data, "wal", name)));
  for (const name of readdirSync(data))
    if (name === "acked-seq") out.set(name, readFileSync(join(data, name)));
  return out;
}

/** Replays seqs 1..to through the historical feed; returns the frames as (seq, tick) in arrival order. */
async function replayAll(daemon: Daemon, to: number): Promise<ReturnType<typeof tickOf>[]> {
  const c = await Client.connect(daemon.url("/v1/feed"));
  c.send({ op: "subscribe", id: 1, feed: "historical", symbols: ["*"], from: { seq: 1 }, to: { seq: to } });
  await c.nextOp("replay_done");
  c.close();
  return framesOf(c.binary).map((f) => tickOf(f));
}

/** `tickring serve` expected to fail at start: its exit code and the one line it wrote. */
async function failingStart(data: string, args = ARGS): Promise<{ code: number; line: string }> {
  const r = await cli(["serve", "--data", data, "--port", "0", ...args], { timeoutMs: 30_000 });
  assert.equal(r.timedOut, false, "the daemon did not exit");
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  return { code: r.code, line: lines[0] };
}

test("a flipped byte in the active segment whose seqs the store holds: repaired at start, every acked tick replays once", async () => {
  const dir = tempDir("tickring-corrupt-");
  try {
    const acked = await ingestAndKill(dir.path, 800);
    const active = listSegments(join(dir.path, "wal")).at(-1)!;
    const recs = records(active.file, active.firstSeq);
    const victim = recs[Math.floor(recs.length / 2)];
    flipFrameByte(active.file, victim.offset);

    const daemon = await startDaemon(dir.path, ARGS);
    const repaired = daemon.logs.find((l) => String(l.msg).startsWith("WAL repaired from the store"));
    assert.ok(repaired !== undefined, "the repair is logged");
    assert.deepEqual([repaired.file, repaired.offset], [active.file, victim.offset]);
    const last = Math.max(...acked.keys());
    assert.ok(resumedSeq(daemon.logs) >= last, "nothing acked was cut");
    const replayed = await replayAll(daemon, resumedSeq(daemon.logs));
    const bySeq = new Map(replayed.map((t) => [t.seq, t]));
    assert.equal(bySeq.size, replayed.length, "no seq twice");
    const ids = new Set(replayed.map((t) => t.id));
    assert.equal(ids.size, replayed.length, "no tick twice");
    for (const [seq, want] of acked) {
      const got = bySeq.get(seq);
      assert.ok(got !== undefined, `acked seq ${seq} replays`);
      assert.deepEqual([got.id, got.symbol, got.price], [want.id, want.symbol, want.price], `seq ${seq}`);
    }
    assert.equal(await daemon.stop(), 0, daemon.stderr());
  } finally {
    dir.remove();
  }
});

test("nothing holds the damaged record: refused naming file, offset and seqs; wal repair decides; no seq reused", async () => {
  const dir = tempDir("tickring-corrupt-");
  try {
    const acked = await ingestAndKill(dir.path, 600);
    const highest = Math.max(...acked.keys());
    // The store is gone: nothing but the WAL holds any seq.
    rmSync(join(dir.path, "store"), { recursive: true });
    const active = listSegments(join(dir.path, "wal")).at(-1)!;
    const recs = records(active.file, active.firstSeq);
    const victim = recs[Math.floor(recs.length / 2)];
    flipFrameByte(active.file, victim.offset);
    const walEnd = recs[recs.length - 1].seq;

    const refused = await failingStart(dir.path);
    assert.equal(refused.code, 1);
    assert.match(
      refused.line,
      /^tickring: ERR_WAL_CORRUPT: seqs \d+\.\.\d+ are held by neither the WAL nor the store/,
    );
    assert.ok(
      refused.line.includes(`${active.file} is damaged at offset ${victim.offset} (CRC32C mismatch)`),
      refused.line,
    );
    assert.ok(refused.line.includes(`Seqs ${victim.seq}..${walEnd} are at stake`), refused.line);
    assert.ok(refused.line.includes(`tickring wal repair --data ${dir.path}`), refused.line);

    const before = walState(dir.path);
    const dry = await cli(["wal", "repair", "--data", dir.path, "--json"]);
    assert.equal(dry.code, 0, dry.stderr);
    const found = JSON.parse(dry.stdout) as Record<string, unknown>;
    assert.equal(found.action, "refuse");
    assert.deepEqual([found.file, found.offset], [active.file, victim.offset]);
    assert.deepEqual(found.missing, [victim.seq, victim.seq]);
    assert.deepEqual(found.atStake, [victim.seq, walEnd]);
    const dryText = await cli(["wal", "repair", "--data", dir.path]);
    assert.equal(dryText.code, 0);
    assert.match(dryText.stdout, /The daemon refuses to start/);
    assert.match(dryText.stdout, new RegExp(`continues at seq ${walEnd + 1}`));
    assert.deepEqual(walState(dir.path), before, "a dry run changes nothing");

    const fixed = await cli(["wal", "repair", "--data", dir.path, "--truncate-at-corruption", "--json"]);
    assert.equal(fixed.code, 0, fixed.stderr);
    const did = (JSON.parse(fixed.stdout) as { did: { gaveUp: number[]; nextSeq: number } }).did;
    assert.deepEqual(did.gaveUp, [victim.seq, walEnd]);
    assert.equal(did.nextSeq, walEnd + 1);

    const daemon = await startDaemon(dir.path, ARGS);
    assert.ok(resumedSeq(daemon.logs) >= highest);
    const pub = await Publisher.connect(daemon.url("/v1/ingest"));
    pub.send(1);
    await pub.ackedAtLeast(1);
    const [seq] = [...pub.acked.keys()];
    assert.ok(seq > highest, `the next seq (${seq}) is above the highest seq ever acked (${highest})`);
    pub.close();
    assert.equal(await daemon.stop(), 0, daemon.stderr());
  } finally {
    dir.remove();
  }
});

test("a WAL ending below the highest seq acked: refused, then given up on request, the next seq above it", async () => {
  const dir = tempDir("tickring-corrupt-");
  try {
    // One segment (the default size): the cut is in it whatever the number of ticks.
    const args = ["--workers", "1", "--fsync", "batch"];
    const acked = await ingestAndKill(dir.path, 400, args);
    const highest = Math.max(...acked.keys());
    // As the daemon keeps it (the WAL's durable seq, persisted apart from the WAL).
    const mark = AckedSeqFile.open(join(dir.path, "acked-seq"));
    mark.persistSync(highest);
    await mark.close();
    rmSync(join(dir.path, "store"), { recursive: true });
    // The last records are gone at a record boundary: no bad byte, the WAL is only short.
    const active = listSegments(join(dir.path, "wal")).at(-1)!;
    const recs = records(active.file, active.firstSeq);
    const cut = recs[recs.length - 5];
    truncateSync(active.file, cut.offset);
    const refused = await failingStart(dir.path, args);
    assert.equal(refused.code, 1);
    assert.ok(refused.line.includes(`the WAL ends at seq ${cut.seq - 1}`), refused.line);
    assert.ok(refused.line.includes(`seqs up to ${highest} were acked`), refused.line);
    const fixed = await cli(["wal", "repair", "--data", dir.path, "--truncate-at-corruption"]);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.match(fixed.stdout, new RegExp(`gave up seqs ${cut.seq}\\.\\.${highest} for good`));
    const daemon = await startDaemon(dir.path, args);
    assert.equal(resumedSeq(daemon.logs), highest);
    assert.equal(await daemon.stop(), 0, daemon.stderr());
  } finally {
    dir.remove();
  }
});

test("a damaged sealed segment does not stop the daemon: it starts, and history there comes from the store", async () => {
  const dir = tempDir("tickring-corrupt-");
  try {
    const acked = await ingestAndKill(dir.path, 1500);
    const segments = listSegments(join(dir.path, "wal"));
    assert.ok(segments.length >= 3, `${segments.length} segments`);
    // The newest sealed segment (which the open verifies) and an older one.
    for (const s of [segments[segments.length - 2], segments[0]]) {
      const recs = records(s.file, s.firstSeq);
      flipFrameByte(s.file, recs[Math.floor(recs.length / 2)].offset);
    }
    const store = await Store.open({ dir: join(dir.path, "store"), multithreading: false });
    const checkpoint = store.checkpoint;
    await store.close();
    const daemon = await startDaemon(dir.path, ARGS);
    const warned = daemon.logs.filter((l) => String(l.msg).startsWith("sealed WAL segment damaged"));
    assert.deepEqual(
      warned.map((l) => l.file),
      [segments[segments.length - 2].file],
    );
    const health = await fetch(`http://127.0.0.1:${daemon.port}/healthz`);
    assert.equal(health.status, 200);
    // The store holds every seq: a replay across both damaged segments is whole.
    const to = Math.min(checkpoint, resumedSeq(daemon.logs));
    const replayed = await replayAll(daemon, to);
    assert.deepEqual(
      replayed.map((t) => t.seq),
      Array.from({ length: to }, (_, i) => i + 1),
    );
    for (const t of replayed) {
      const want = acked.get(t.seq);
      if (want !== undefined) assert.equal(t.id, want.id, `seq ${t.seq}`);
    }
    assert.equal(await daemon.stop(), 0, daemon.stderr());
  } finally {
    dir.remove();
  }
});
