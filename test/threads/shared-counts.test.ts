import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import fc from "fast-check";
import { SharedCounts } from "../../src/threads/shared-counts.js";

test("counts follow acquire and release like a map, whatever the order, in a small table", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 })), { maxLength: 400 }),
      (ops) => {
        const counts = new SharedCounts(SharedCounts.allocate(64));
        const model = new Map<string, number>();
        for (const [acquire, k] of ops) {
          const key = `10.0.0.${k}`;
          const have = model.get(key) ?? 0;
          if (acquire) {
            const ok = counts.tryAcquire(key, 3);
            assert.equal(ok, have < 3);
            if (ok) model.set(key, have + 1);
          } else if (have > 0) {
            counts.release(key);
            model.set(key, have - 1);
          }
          for (let j = 0; j <= 40; j++)
            assert.equal(counts.count(`10.0.0.${j}`), model.get(`10.0.0.${j}`) ?? 0);
        }
      },
    ),
  );
});

test("a limit holds across threads acquiring at once", async () => {
  const buffer = SharedCounts.allocate();
  const source = `
    const { workerData, parentPort } = require("node:worker_threads");
    import(workerData.module).then(({ SharedCounts }) => {
      const c = new SharedCounts(workerData.buffer);
      let got = 0;
      for (let i = 0; i < 5000; i++) if (c.tryAcquire("203.0.113.7", 1000)) got++;
      parentPort.postMessage(got);
    });`;
  const module = new URL("../../src/threads/shared-counts.js", import.meta.url).href;
  const got = await Promise.all(
    [0, 1, 2, 3].map(
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(source, { eval: true, workerData: { buffer, module } });
          w.once("message", resolve);
          w.once("error", reject);
        }),
    ),
  );
  assert.equal(
    got.reduce((a, b) => a + b, 0),
    1000,
  );
  assert.equal(new SharedCounts(buffer).count("203.0.113.7"), 1000);
});
