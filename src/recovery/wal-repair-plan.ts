/**
 * What a damaged or short WAL needs, decided before anything is written — by the daemon at every start, and
 * by `tickring wal repair` (which prints it). The WAL is examined at its end, where the writer resumes:
 *
 * - the last segment, scanned past any bad record for the records still intact after it
 *   (src/storage/wal/damage.ts);
 * - the highest seq ever acked (`<data>/acked-seq`): the WAL must reach it;
 * - the store: it holds frames up to its checkpoint (the indexer only indexes durable seqs), the same bytes.
 *
 * Every seq from the end of the valid prefix to the highest seq anything shows was handed out (intact
 * records, the acked mark, the store) must come back, from an intact record of the file or from the store.
 * The actions, in order:
 *
 * - `none`: the WAL is whole to that seq.
 * - `cut`: bad bytes at the end with nothing after them and no seq at stake — a torn tail of writes never
 *   made durable, nor acked. The open cuts it.
 * - `restore`: every seq at stake comes back: the segment's tail is rebuilt from its intact records and the
 *   store's frames (same seqs, same bytes, checked against what the damaged records still show).
 * - `refuse`: some seq at stake is held by nothing. Starting would lose it and hand its seq out again, so the
 *   daemon refuses, naming the file, the offset and the seqs; `tickring wal repair --truncate-at-corruption`
 *   gives them up for good: the WAL is cut before the first of them and the range recorded as a hole (a gap
 *   for readers), and the next seq is above all of them.
 *
 * Sealed segments do not stop a start (readers skip what they cannot read); `wal repair` lists their damage.
 */
import {
  dataDirLayout,
  holeAt,
  listHoles,
  listSegments,
  StorageError,
  type Store,
} from "../storage/index.js";
import { type IntactRun, scanSegment } from "../storage/wal/damage.js";
import { scanSegmentFile } from "../storage/wal/scan.js";

/** What {@link planWalRepair} found and would do. */
export interface WalRepairPlan {
  /** The data directory. */
  data: string;
  action: "none" | "cut" | "restore" | "refuse";
  /** The last segment (null when the WAL has none, or a hole was recorded after it). */
  file: string | null;
  /** Seq of that segment's first record (the seq a new segment would start at, when `file` is null). */
  segmentFirstSeq: number;
  /** Offset of the first bad byte in `file` (its valid length), or the file's size when it is only short. */
  offset: number;
  /** Why the file stops there (a bad record's reason); null when it ends clean. */
  reason: string | null;
  /** Bytes of `file`. */
  fileBytes: number;
  /** Last seq of the valid prefix: where the WAL ends if cut at `offset`. */
  validSeq: number;
  /** Highest seq anything shows was handed out: the WAL must reach it. */
  highSeq: number;
  /** The highest seq ever acked, as recorded. */
  ackedSeq: number;
  /** The store's checkpoint, and its first seq (0: it holds none). */
  storeCheckpoint: number;
  storeFirstSeq: number;
  /** Intact records after the damage, as seq ranges with their file offsets. */
  intact: IntactRun[];
  /** Seq ranges the store would restore. */
  fromStore: [number, number][];
  /** The first seq at stake that nothing holds, and the last of that missing run; null when none is. */
  missing: [number, number] | null;
  /** Damaged sealed segments (only with `verifySealed`), and whether the store holds what they lost. */
  sealed: {
    file: string;
    offset: number;
    reason: string;
    fromSeq: number;
    toSeq: number;
    storeHolds: boolean;
  }[];
}

/** Options of {@link planWalRepair}. */
export interface PlanOptions {
  /** The data directory. */
  data: string;
  /** Its store, open. */
  store: Store;
  /** The highest seq ever acked (0 when unknown). */
  ackedSeq: number;
  /** Scan every sealed segment too (for `wal repair`'s report; the daemon does not). @default false */
  verifySealed?: boolean;
  /** As the WAL was written with. @default 256 KiB */
  indexIntervalBytes?: number;
}

/** Examines the WAL of `data` against the acked mark and the store; writes nothing. */
export async function planWalRepair(o: PlanOptions): Promise<WalRepairPlan> {
  const { walDir } = dataDirLayout(o.data);
  const interval = o.indexIntervalBytes ?? 256 * 1024;
  const segments = listSegments(walDir);
  const holes = listHoles(walDir);
  const storeCheckpoint = o.store.checkpoint;
  const storeFirstSeq = storeCheckpoint > 0 ? await o.store.firstSeq() : 0;
  const last = segments.at(-1);
  const plan: WalRepairPlan = {
    data: o.data,
    action: "none",
    file: null,
    segmentFirstSeq: 1,
    offset: 0,
    reason: null,
    fileBytes: 0,
    validSeq: holes.at(-1)?.to ?? 0,
    highSeq: 0,
    ackedSeq: o.ackedSeq,
    storeCheckpoint,
    storeFirstSeq,
    intact: [],
    fromStore: [],
    missing: null,
    sealed: [],
  };
  if (last !== undefined) {
    const scan = scanSegment(last.file, last.firstSeq, interval);
    plan.file = last.file;
    plan.segmentFirstSeq = last.firstSeq;
    plan.offset = scan.goodEnd;
    plan.fileBytes = scan.fileBytes;
    plan.validSeq = last.firstSeq + scan.count - 1;
    plan.intact = scan.after;
    if (scan.goodEnd < scan.fileBytes) plan.reason = scan.corrupt?.reason ?? "partial record at the tail";
    const after = holeAt(holes, plan.validSeq + 1);
    if (plan.reason === null && after !== undefined) {
      // A hole was recorded after the last segment: the WAL goes on after it, in a segment not made yet.
      plan.file = null;
      plan.validSeq = after.to;
      plan.offset = plan.fileBytes = 0;
    }
  }
  if (plan.file === null) plan.segmentFirstSeq = plan.validSeq + 1;
  const seen = plan.intact.length > 0 ? lastSeqOf(plan.intact[plan.intact.length - 1]) : plan.validSeq;
  plan.highSeq = Math.max(plan.validSeq, seen, o.ackedSeq, storeCheckpoint);
  walkSeqs(plan);
  if (plan.missing !== null) plan.action = "refuse";
  else if (plan.highSeq > plan.validSeq) plan.action = "restore";
  else if (plan.reason !== null) plan.action = "cut";
  if (o.verifySealed === true) plan.sealed = verifySealedSegments(segments, holes, interval, plan);
  return plan;
}

/** Fills `fromStore` and `missing`: where each seq from `validSeq + 1` to `highSeq` comes from. */
function walkSeqs(plan: WalRepairPlan): void {
  const storeHas = (s: number) =>
    plan.storeFirstSeq > 0 && s >= plan.storeFirstSeq && s <= plan.storeCheckpoint;
  let run = 0;
  for (let s = plan.validSeq + 1; s <= plan.highSeq;) {
    const r = plan.intact[run];
    if (r !== undefined && s === r.firstSeq) {
      s = lastSeqOf(r) + 1;
      run++;
      continue;
    }
    // Up to the next intact run (or the end), the store must hold every seq.
    const until = Math.min(plan.highSeq, (r?.firstSeq ?? Number.MAX_SAFE_INTEGER) - 1);
    if (!storeHas(s)) {
      plan.missing = [s, storeHas(until) ? plan.storeFirstSeq - 1 : until];
      return;
    }
    const to = Math.min(until, plan.storeCheckpoint);
    plan.fromStore.push([s, to]);
    if (to < until) {
      plan.missing = [to + 1, until];
      return;
    }
    s = until + 1;
  }
}

function lastSeqOf(r: IntactRun): number {
  return r.firstSeq + r.count - 1;
}

/** The sealed segments that do not hold every record their place in the WAL implies. */
function verifySealedSegments(
  segments: { file: string; firstSeq: number }[],
  holes: { from: number; to: number }[],
  interval: number,
  plan: WalRepairPlan,
): WalRepairPlan["sealed"] {
  const out: WalRepairPlan["sealed"] = [];
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i];
    const next = segments[i + 1].firstSeq;
    const hole = holes.find((h) => h.from > s.firstSeq && h.from < next);
    const lastSeq = (hole?.from ?? next) - 1;
    const scan = scanSegmentFile(s.file, interval);
    const fromSeq = s.firstSeq + scan.count;
    if (scan.goodEnd === scan.fileBytes && fromSeq === lastSeq + 1) continue;
    out.push({
      file: s.file,
      offset: scan.goodEnd,
      reason: scan.corrupt?.reason ?? (scan.goodEnd < scan.fileBytes ? "partial record" : "ends early"),
      fromSeq: Math.min(fromSeq, lastSeq + 1),
      toSeq: lastSeq,
      storeHolds: plan.storeFirstSeq > 0 && plan.storeFirstSeq <= fromSeq && plan.storeCheckpoint >= lastSeq,
    });
  }
  return out;
}

/** One line saying what the plan found, for logs, errors and `wal repair`. */
export function describeDamage(plan: WalRepairPlan): string {
  const where =
    plan.file === null
      ? `the WAL ends at seq ${plan.validSeq}`
      : plan.reason !== null
        ? `${plan.file} is damaged at offset ${plan.offset} (${plan.reason}): the WAL is valid up to seq ${plan.validSeq}`
        : `the WAL ends at seq ${plan.validSeq} (${plan.file}, ${plan.fileBytes} bytes)`;
  const parts = [where];
  if (plan.intact.length > 0)
    parts.push(`the file still holds seqs ${ranges(plan.intact.map(runRange))} after it`);
  if (plan.ackedSeq > plan.validSeq) parts.push(`seqs up to ${plan.ackedSeq} were acked`);
  parts.push(
    plan.storeCheckpoint > 0
      ? `the store holds seqs ${plan.storeFirstSeq}..${plan.storeCheckpoint}`
      : "the store holds nothing",
  );
  return parts.join("; ");
}

function runRange(r: IntactRun): [number, number] {
  return [r.firstSeq, lastSeqOf(r)];
}

/** `a..b, c..d` */
export function ranges(rs: [number, number][]): string {
  return rs.map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`)).join(", ");
}

/**
 * The daemon refuses to start: acked seqs are at stake that neither the WAL nor the store holds. The message
 * names the file, the offset and the seqs, says that nothing was changed, and points to `tickring wal repair`.
 */
export class WalDamageError extends StorageError {
  override name = "WalDamageError";
  readonly file: string | null;
  readonly offset: number;

  constructor(readonly plan: WalRepairPlan) {
    const [from, to] = plan.missing!;
    super(
      "ERR_WAL_CORRUPT",
      `ERR_WAL_CORRUPT: seqs ${from}..${to} are held by neither the WAL nor the store: ${describeDamage(plan)}. ` +
        `Nothing was changed. Seqs ${plan.validSeq + 1}..${plan.highSeq} are at stake: ` +
        `\`tickring wal repair --data ${plan.data}\` shows the options; with --truncate-at-corruption it gives up ` +
        `seqs ${from}..${plan.highSeq} for good and the daemon continues at seq ${plan.highSeq + 1}`,
    );
    this.file = plan.file;
    this.offset = plan.offset;
  }
}
