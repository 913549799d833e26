/**
 * The indexer's checkpoint never runs ahead of (or behind) its data: a real child process indexing in small
 * batches is killed with SIGKILL at several points; after each kill the store holds exactly seqs 1..checkpoint,
 * and indexing resumes from there to a store equal to the WAL with no duplicate.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { frameSeq } from "../../src/frame/codec.js";
import { Indexer } from "../../src/storage/indexer.js";
import { Store } from "../../src/storage/store/store.js";
import { Wal } from "../../src/storage/wal/wal.js";
import { collect, makeFrames, tempDir } from "./helpers.js";

const CHILD = fileURLToPath(new URL("./fixtures/indexer-child.js", import.meta.url));
const SYMBOLS = ["AAPL", "MSFT", "GOOG"];
const N = 20_000;

/** Runs the child until it has printed `lines` checkpoint lines (or finished), then SIGKILLs it. */
function runAndKill(walDir: string, storeDir: string, lines: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, walDir, storeDir, "37"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let seen = 0;
    let last = 0;
    let buf = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        last = Number(buf.slice(3, nl));
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
        if (++seen >= lines || last >= N) child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("exit", () => resolve(last));
  });
}

async function checkStore(storeDir: string, frames: Uint8Array[]): Promise<number> {
  const store = await Store.open({ dir: storeDir });
  try {
    const cp = store.checkpoint;
    const seqs: number[] = [];
    const got: Uint8Array[] = [];
    for await (const b of store.readBySeq(0, Number.MAX_SAFE_INTEGER)) collect(b, seqs, got, true);
    assert.deepEqual(
      seqs,
      Array.from({ length: cp }, (_, i) => i + 1),
      `seq blocks are exactly 1..${cp}`,
    );
    assert.deepEqual(got, frames.slice(0, cp));
    for (const symbol of SYMBOLS) {
      const bySym: number[] = [];
      for await (const b of store.readBySymbolTime(symbol, 0n, 2n ** 63n - 1n)) {
        for (let i = 0; i < b.count; i++) bySym.push(frameSeq(b.bytes, b.offsets[i]));
      }
      const want: number[] = [];
      for (let s = 1; s <= cp; s++) if (SYMBOLS[s % SYMBOLS.length] === symbol) want.push(s);
      assert.deepEqual(bySym, want, `time blocks of ${symbol} hold exactly its seqs ≤ ${cp}`);
    }
    return cp;
  } finally {
    await store.close();
  }
}

test("kill -9 mid-batch never leaves the checkpoint ahead of or behind the data", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const walDir = join(dir, "wal");
    const storeDir = join(dir, "lsm");
    const frames = makeFrames(1, N, 0, SYMBOLS);
    const { wal } = await Wal.open({ dir: walDir, fsync: "os" });
    for (let i = 0; i < N; i++) wal.append(frames[i], i + 1);
    await wal.close();

    let cp = 0;
    for (const lines of [2, 15, 40, 90]) {
      await runAndKill(walDir, storeDir, lines);
      const after = await checkStore(storeDir, frames);
      assert.ok(after >= cp, "the checkpoint never goes back");
      if (process.env.TRACE_CRASH) console.error(`killed after ${lines} lines: checkpoint ${after}`);
      cp = after;
    }
    // Resume in-process to the end: the result equals the WAL, with no duplicate.
    const store = await Store.open({ dir: storeDir });
    const indexer = new Indexer(store, { walDir, maxBatchFrames: 1000 });
    indexer.start();
    await indexer.waitFor(N);
    await indexer.stop();
    await store.close();
    assert.equal(await checkStore(storeDir, frames), N);
  } finally {
    cleanup();
  }
});
