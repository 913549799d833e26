/**
 * `tickring wal repair --data DIR [--truncate-at-corruption] [--json]`: what the daemon would find at the
 * WAL's end — a damaged record, a WAL shorter than the highest seq acked — and what it would do; with
 * `--truncate-at-corruption`, the operator's choice when acked seqs are held by nothing: give them up for
 * good (src/recovery/wal-repair.ts). A dry run by default, which changes nothing in the data directory (the
 * store is read through a scratch copy: opening a LevelDB rewrites its files). Both take the directory's
 * lock: `ERR_DATA_LOCKED` while a daemon holds it. Exit status by the error model: 0 done (a dry run that
 * found damage included: the report says what), 2 misuse, 1 failure.
 */
import type { Command } from "commander";
import {
  applyWalRepair,
  describeDamage,
  planWalRepair,
  ranges,
  scratchStoreCopy,
  type WalRepairPlan,
} from "../recovery/index.js";
import { existingDataDir, openDataDir, readAckedSeq, Store, Wal } from "../storage/index.js";

/** Adds `wal` and its subcommand `repair` to `program`. */
export function registerWalCommands(program: Command): void {
  const wal = program
    .command("wal")
    .description("inspect and repair the write-ahead log of a stopped daemon");
  wal
    .command("repair")
    .description(
      "check the WAL's end against the highest seq acked and the store, say what the daemon would do; " +
        "change nothing unless --truncate-at-corruption",
    )
    .requiredOption("--data <dir>", "data directory of a stopped daemon")
    .option(
      "--truncate-at-corruption",
      "repair now: restore what the store holds, and give up for good the seqs nothing holds (readers get a " +
        "gap; the next seq is above every seq acked)",
    )
    .option("--json", "print the findings as one JSON object")
    .addHelpText(
      "after",
      "\nWithout --truncate-at-corruption nothing in the data directory changes. The daemon itself restores " +
        "what the store holds, and refuses to start only when acked seqs are held by nothing.\nExit status: " +
        "0 done (a dry run that found damage too), 1 failed (ERR_DATA_LOCKED: a daemon holds the directory), " +
        "2 bad arguments or not a data directory.",
    )
    .action(async (flags: { data: string; truncateAtCorruption?: boolean; json?: boolean }) => {
      const layout = existingDataDir(flags.data);
      const dir = await openDataDir(flags.data);
      try {
        const ackedSeq = readAckedSeq(layout.ackedSeqFile).seq;
        const truncate = flags.truncateAtCorruption === true;
        const scratch = truncate ? null : await scratchStoreCopy(layout.storeDir, layout.path);
        const store = await Store.open({ dir: scratch?.dir ?? layout.storeDir, multithreading: false });
        try {
          const plan = await planWalRepair({ data: flags.data, store, ackedSeq, verifySealed: true });
          if (!truncate) {
            print(flags.json === true, report(plan), () => text(plan, wouldDo(plan)));
            return;
          }
          const done = await applyWalRepair(plan, store, { truncateAtCorruption: true });
          // What the daemon does next at start, done now: a torn tail cut, the index rewritten.
          const { wal, report: opened } = await Wal.open({ dir: layout.walDir });
          await wal.close();
          const did = {
            ...report(plan),
            did: {
              fromStore: done.fromStore,
              gaveUp: done.gaveUp,
              cut: opened.truncated ?? null,
              lastSeq: opened.lastSeq,
              nextSeq: opened.lastSeq + 1,
            },
          };
          print(flags.json === true, did, () =>
            text(plan, didText(done.gaveUp, opened.lastSeq, done.fromStore)),
          );
        } finally {
          await store.close();
          await scratch?.remove();
        }
      } finally {
        dir.release();
      }
    });
}

/** The findings as JSON. */
function report(plan: WalRepairPlan): Record<string, unknown> {
  return {
    action: plan.action,
    file: plan.file,
    offset: plan.offset,
    reason: plan.reason,
    validSeq: plan.validSeq,
    highSeq: plan.highSeq,
    ackedSeq: plan.ackedSeq,
    store: { firstSeq: plan.storeFirstSeq, checkpoint: plan.storeCheckpoint },
    atStake: plan.highSeq > plan.validSeq ? [plan.validSeq + 1, plan.highSeq] : null,
    intactInFile: plan.intact.map((r) => [r.firstSeq, r.firstSeq + r.count - 1]),
    fromStore: plan.fromStore,
    missing: plan.missing,
    sealed: plan.sealed,
  };
}

/** What the daemon (or `--truncate-at-corruption`) would do. */
function wouldDo(plan: WalRepairPlan): string {
  switch (plan.action) {
    case "none":
      return "nothing to repair: the daemon starts as it is";
    case "cut":
      return "the daemon cuts the torn tail at start (bytes of writes never made durable, never acked)";
    case "restore":
      return (
        `the daemon restores seqs ${ranges(plan.fromStore)} from the store at start and loses nothing ` +
        "(--truncate-at-corruption does the same now)"
      );
    case "refuse": {
      const [from] = plan.missing!;
      return (
        `the daemon refuses to start: seqs ${ranges([plan.missing!])} are held by nothing. ` +
        `With --truncate-at-corruption: ${plan.fromStore.length > 0 ? `restore seqs ${ranges(plan.fromStore.filter(([a]) => a < from))} from the store, ` : ""}` +
        `end the WAL at seq ${from - 1} and give up seqs ${from}..${plan.highSeq} for good (readers get a gap ` +
        `with reason "lost"); the daemon then continues at seq ${plan.highSeq + 1}`
      );
    }
  }
}

function didText(gaveUp: [number, number] | null, lastSeq: number, fromStore: [number, number][]): string {
  const parts: string[] = [];
  if (fromStore.length > 0) parts.push(`restored seqs ${ranges(fromStore)} from the store`);
  if (gaveUp !== null) parts.push(`gave up seqs ${gaveUp[0]}..${gaveUp[1]} for good`);
  if (parts.length === 0) parts.push("nothing needed repair");
  return `done: ${parts.join("; ")}; the WAL ends at seq ${lastSeq}, the daemon continues at seq ${lastSeq + 1}`;
}

/** The findings as lines of text. */
function text(plan: WalRepairPlan, action: string): string {
  const lines = [`WAL of ${plan.data}: ${describeDamage(plan)}.`];
  if (plan.highSeq > plan.validSeq) lines.push(`Seqs at stake: ${plan.validSeq + 1}..${plan.highSeq}.`);
  for (const s of plan.sealed) {
    lines.push(
      `Sealed segment ${s.file} is damaged at offset ${s.offset} (${s.reason}): seqs ${s.fromSeq}..${s.toSeq} ` +
        `are unreadable from the WAL; ${s.storeHolds ? "the store holds them (history reads them there)" : "readers get a gap"}.`,
    );
  }
  lines.push(action.charAt(0).toUpperCase() + action.slice(1) + ".");
  return lines.join("\n");
}

function print(json: boolean, value: Record<string, unknown>, asText: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${asText()}\n`);
}
