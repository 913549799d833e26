/** Durations and byte sizes as text: what parses, what does not, and that formatting reads back. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatByteSize, parseByteSize } from "../../src/config/byte-size.js";
import { formatDuration, parseDuration } from "../../src/config/duration.js";

test("a duration needs its unit", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("2s"), 2000);
  assert.equal(parseDuration(" 15m "), 900_000);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("1d"), 86_400_000);
  for (const bad of ["30", "0", "", "s", "5x", "-1s", "1e3s"])
    assert.equal(parseDuration(bad), undefined, bad);
  for (const ms of [1, 999, 1000, 90_000, 3_600_000, 86_400_000, 1500])
    assert.equal(parseDuration(formatDuration(ms)), ms);
});

test("a byte size is whole bytes, with or without a unit", () => {
  assert.equal(parseByteSize("4096"), 4096);
  assert.equal(parseByteSize("512KiB"), 524_288);
  assert.equal(parseByteSize("1mib"), 1_048_576);
  assert.equal(parseByteSize("1 GiB"), 2 ** 30);
  assert.equal(parseByteSize("1GB"), 1e9);
  assert.equal(parseByteSize("2TiB"), 2 * 2 ** 40);
  for (const bad of ["", "1.5", "0.5B", "1XB", "-1", "MiB", "1e9"])
    assert.equal(parseByteSize(bad), undefined, bad);
  for (const bytes of [0, 1000, 65536, 64 * 2 ** 20, 2 ** 30 + 1])
    assert.equal(parseByteSize(formatByteSize(bytes)), bytes);
  assert.equal(formatByteSize(64 * 2 ** 20), "64MiB");
});
