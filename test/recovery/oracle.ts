/**
 * What a data dir must hold after any number of crashes: every acked tick at its acked seq, seqs gap-free
 * from 1, no tick twice, nothing the test did not send, and frames seen by an earlier check unchanged.
 */
import assert from "node:assert/strict";
import { Store } from "../../src/storage/index.js";
import { type Publisher, readWal, type SentTick, tickOf } from "./helpers.js";

export class CrashOracle {
  /** seq → the tick acked there (forgotten above a seq the test destroyed). */
  private readonly acked = new Map<number, SentTick>();
  /** Frames as the last check read them (index seq - 1). */
  private seen: Buffer[] = [];
  /** Ids of every tick sent so far. */
  private readonly sent = new Set<number>();
  ackedTotal = 0;

  /** Takes in what a publisher got acked during one daemon's life that resumed at `resumedSeq`. */
  absorb(pub: Publisher, resumedSeq: number, sentIds: Iterable<number>): void {
    for (const id of sentIds) this.sent.add(id);
    const seqs = [...pub.acked.keys()].sort((a, b) => a - b);
    // Seq continues: the first ack of a life is the seq after the one it resumed at, then no gap.
    seqs.forEach((s, i) => {
      assert.equal(s, resumedSeq + 1 + i, "acked seqs continue from the resumed seq");
    });
    for (const [seq, t] of pub.acked) this.acked.set(seq, t);
    this.ackedTotal += seqs.length;
  }

  /** Forgets everything above `seq`: the test destroyed those records on purpose. */
  destroyAbove(seq: number): void {
    for (const s of this.acked.keys()) if (s > seq) this.acked.delete(s);
    this.seen.length = Math.min(this.seen.length, seq);
  }

  /** Checks the WAL of a data dir whose daemon resumed at `resumedSeq`. */
  check(walDir: string, resumedSeq: number): void {
    const frames = readWal(walDir);
    assert.equal(frames.length, resumedSeq, "the daemon resumes at the WAL's last seq");
    const ids = new Set<number>();
    frames.forEach((f, i) => {
      const t = tickOf(f);
      assert.equal(t.seq, i + 1, "seqs are gap-free from 1");
      assert.ok(this.sent.has(t.id), `seq ${t.seq} holds a tick never sent (id ${t.id})`);
      assert.ok(!ids.has(t.id), `tick ${t.id} stored twice`);
      ids.add(t.id);
    });
    for (const [seq, want] of this.acked) {
      assert.ok(seq <= frames.length, `acked seq ${seq} lost (WAL ends at ${frames.length})`);
      const got = tickOf(frames[seq - 1]);
      assert.deepEqual([got.id, got.symbol, got.price], [want.id, want.symbol, want.price], `seq ${seq}`);
    }
    this.seen.forEach((bytes, i) => {
      assert.ok(bytes.equals(frames[i]), `seq ${i + 1} changed bytes`);
    });
    this.seen = frames;
  }
}

/** With no daemon running: the store holds exactly the WAL's frames up to its checkpoint. */
export async function checkStoreMatchesWal(data: string): Promise<number> {
  const frames = readWal(`${data}/wal`);
  const store = await Store.open({ dir: `${data}/store`, multithreading: false });
  try {
    assert.ok(store.checkpoint <= frames.length, "store checkpoint ≤ WAL last seq");
    let seq = 1;
    for await (const b of store.readBySeq(1, store.checkpoint)) {
      for (let i = 0; i < b.count; i++, seq++) {
        const o = b.offsets[i];
        const len = frames[seq - 1].length;
        assert.ok(Buffer.from(b.bytes.subarray(o, o + len)).equals(frames[seq - 1]), `store seq ${seq}`);
      }
    }
    assert.equal(seq - 1, store.checkpoint, "store holds every seq up to its checkpoint");
    return store.checkpoint;
  } finally {
    await store.close();
  }
}
