/**
 * Every benchmark's flags come from one declaration (bench/catalog.ts): `--help` prints its usage and
 * exits 0, a bad flag exits 2 with one line — through `tickring bench` and when the script runs alone.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { oneLine, run } from "./run.js";

const NAMES = ["ring", "storage", "publisher", "e2e", "replay", "recovery", "peers", "report"];
const SCRIPTS: Record<string, string> = Object.fromEntries(
  NAMES.map((n) => [n, n === "report" ? "report/report.js" : `${n}/${n}.bench.js`]),
);
const script = (name: string) => fileURLToPath(new URL(`../../bench/${SCRIPTS[name]}`, import.meta.url));

test("tickring bench --help lists every benchmark and exits 0", async () => {
  const r = await run(["bench", "--help"]);
  assert.equal(r.code, 0, r.stderr);
  for (const name of NAMES) assert.match(r.stdout, new RegExp(`^  ${name} `, "m"), name);
});

for (const name of NAMES) {
  test(`tickring bench ${name}: --help prints the usage, a bad flag one line, exit 0 and 2`, async () => {
    const help = await run(["bench", name, "--help"]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^usage: tickring bench ${name} \\[flags\\]\\n`));
    assert.match(help.stdout, /^ {2}--help {2,}print this help$/m);

    const bad = await run(["bench", name, "--no-such-flag"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(oneLine(bad), new RegExp(`^tickring: --no-such-flag: not a flag of bench ${name}`));

    // The script alone reads the same declaration.
    const alone = await run(["--help"], {}, script(name));
    assert.equal(alone.code, 0, alone.stderr);
    assert.equal(alone.stdout, help.stdout);
    const aloneBad = await run(["--no-such-flag"], {}, script(name));
    assert.equal(aloneBad.code, 2, aloneBad.stderr);
    assert.match(oneLine(aloneBad), new RegExp(`^${name}: --no-such-flag: not a flag of bench ${name}`));
  });
}

test("tickring bench checks flag values before it starts the benchmark", async () => {
  const cases: [string[], RegExp][] = [
    [["ring", "--duration", "0"], /^tickring: --duration: expected a positive number of seconds, got "0"$/],
    [["storage", "--group"], /^tickring: --group: needs a value \(N\)$/],
    [["e2e", "--url", "http://x/y"], /^tickring: --url: expected ws:\/\/host:port/],
    [["report", "--only", "e2e,nope"], /^tickring: --only: expected names among/],
    [["publisher", "--json=yes"], /^tickring: --json: is a switch and takes no value$/],
    [["replay", "--duration", "3"], /^tickring: --duration: not a flag of bench replay: .*--frames N$/],
    [["peers", "--formats", "json,xml"], /^tickring: --formats: expected names among json,flatbuffers/],
    [["peers", "--window", "50", "--batch", "100"], /^tickring: --window: must be at least --batch \(100\)/],
  ];
  for (const [args, line] of cases) {
    const r = await run(["bench", ...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(oneLine(r), line);
  }
});
