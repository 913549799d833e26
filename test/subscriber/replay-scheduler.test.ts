import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import { test } from "node:test";
import { ReplayScheduler, type Steppable } from "../../src/subscriber/replay-scheduler.js";

/** A replay with `steps` steps of work that records when each ran. */
function fake(name: string, steps: number, log: string[]): Steppable & { failed?: unknown } {
  let left = steps;
  return {
    queued: false,
    step: async () => {
      log.push(name);
      return --left > 0;
    },
    fail(err) {
      this.failed = err;
    },
  };
}

test("replays take turns one step at a time, however much each has to do", async () => {
  const log: string[] = [];
  const s = new ReplayScheduler();
  for (const [name, steps] of [
    ["a", 3],
    ["b", 1],
    ["c", 2],
  ] as const)
    s.wake(fake(name, steps, log));
  for (let i = 0; i < 20; i++) await tick();
  assert.deepEqual(log, ["a", "b", "c", "a", "c", "a"]);
});

test("a step that throws ends that replay alone", async () => {
  const log: string[] = [];
  const s = new ReplayScheduler();
  const bad: Steppable & { failed?: unknown } = {
    queued: false,
    step: async () => {
      throw new Error("corrupt record");
    },
    fail(err) {
      this.failed = err;
    },
  };
  const good = fake("good", 2, log);
  s.wake(bad);
  s.wake(good);
  for (let i = 0; i < 20; i++) await tick();
  assert.match(String(bad.failed), /corrupt record/);
  assert.deepEqual(log, ["good", "good"]);
});

test("the event loop gets turns while replays have work left", async () => {
  const s = new ReplayScheduler();
  let steps = 0;
  // Each step busy for 1 ms: a scheduler that never yielded would run all 200 before the loop turned.
  const busy: Steppable = {
    queued: false,
    step: async () => {
      const end = performance.now() + 1;
      while (performance.now() < end);
      return ++steps < 200;
    },
    fail: () => {},
  };
  s.wake(busy);
  await tick();
  assert.ok(steps < 200, `the loop turned after ${steps} steps`);
  while (steps < 200) await tick();
});
