/**
 * `tickring snapshot create|list|verify|restore`. A failure prints one line with its stable code
 * (`ERR_SNAPSHOT_CHECKSUM: …`) and exits with {@link exitCodeOf}: 2 for misuse — bad arguments, a path that
 * is not a data directory or snapshot (`ERR_DATA_MISSING`), restoring onto a non-empty directory without
 * `--force` — and 1 for a failed operation.
 */
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { exitCodeOf, OptionError, TickringError } from "../errors.js";
import {
  createSnapshot,
  listSnapshots,
  type OnProgress,
  restoreSnapshot,
  verifySnapshot,
} from "../recovery/index.js";

const MB = 1024 * 1024;

/** Adds `snapshot` and its subcommands to `program`. */
export function registerSnapshotCommands(program: Command): void {
  const snapshot = program
    .command("snapshot")
    .description(
      "consistent copies of a data directory (WAL + store + manifest): create, list, verify, restore",
    );

  snapshot
    .command("create")
    .description(
      "snapshot a stopped data dir (--data: prints {id, seq, path}), or a running daemon (--url: prints {id, seq}; it is in the daemon's <data>/snapshots/<id>) without stopping ingest",
    )
    .option("--data <dir>", "data directory of a stopped daemon (refused while a daemon holds it: use --url)")
    .option("--out <path>", "where the snapshot goes; must not exist (default: <data>/snapshots/<id>)")
    .option(
      "--url <url>",
      "a running daemon, e.g. http://127.0.0.1:9420 (snapshot goes to its <data>/snapshots/)",
    )
    .option(
      "--token <token>",
      "admin token of that daemon: its --admin-token, or with auth on a token with admin",
    )
    .option("--progress", "draw a progress bar on stderr even when it is not a terminal")
    .action(
      run(
        async (flags: { data?: string; out?: string; url?: string; token?: string; progress?: boolean }) => {
          if ((flags.data === undefined) === (flags.url === undefined)) {
            throw new OptionError(
              "snapshot create",
              "give exactly one of --data DIR (offline) or --url URL (online)",
            );
          }
          if (flags.url !== undefined) {
            if (flags.out !== undefined)
              throw new OptionError("--out", "not available with --url (the daemon chooses)");
            print(await createOnline(flags.url, flags.token));
            return;
          }
          const r = await withBar("create", flags.progress, (onProgress) =>
            createSnapshot({ data: flags.data!, out: flags.out, onProgress }),
          ).catch((err) => {
            if (err instanceof TickringError && err.code === "ERR_DATA_LOCKED") {
              throw new TickringError(err.code, `${err.message}: snapshot a running daemon with --url`, {
                cause: err,
              });
            }
            throw err;
          });
          print({ id: r.id, seq: r.seq, path: r.path });
        },
      ),
    );

  snapshot
    .command("list")
    .description("list the complete snapshots in <data>/snapshots/, oldest first")
    .requiredOption("--data <dir>", "data directory")
    .option("--json", "one JSON object per line instead of a table")
    .action(
      run(async (flags: { data: string; json?: boolean }) => {
        const all = await listSnapshots(flags.data);
        for (const s of all) {
          const { id, seq, storeCheckpoint, createdAt, online } = s.manifest;
          if (flags.json === true)
            print({ id, seq, storeCheckpoint, createdAt, online, bytes: s.bytes, path: s.path });
          else
            process.stdout.write(
              `${id}\tseq ${seq}\t${createdAt}\t${(s.bytes / MB).toFixed(1)} MB\t${s.path}\n`,
            );
        }
      }),
    );

  snapshot
    .command("verify")
    .description(
      "check a snapshot: manifest, every file's size and CRC32C, WAL end, store opens at its checkpoint",
    )
    .argument("<path>", "snapshot directory")
    .option("--progress", "draw a progress bar on stderr even when it is not a terminal")
    .action(
      run(async (path: string, flags: { progress?: boolean }) => {
        const r = await withBar("verify", flags.progress, (onProgress) => verifySnapshot(path, onProgress));
        print({ ok: true, id: r.manifest.id, seq: r.manifest.seq, files: r.files, bytes: r.bytes });
      }),
    );

  snapshot
    .command("restore")
    .description(
      "restore a snapshot into a data dir (absent or empty, or --force); never leaves it half-restored",
    )
    .argument("<path>", "snapshot directory")
    .requiredOption("--data <dir>", "data directory to restore into")
    .option("--force", "replace a non-empty data directory (its snapshots/ are kept)")
    .option("--progress", "draw a progress bar on stderr even when it is not a terminal")
    .action(
      run(async (path: string, flags: { data: string; force?: boolean; progress?: boolean }) => {
        const m = await withBar("restore", flags.progress, (onProgress) =>
          restoreSnapshot(path, flags.data, { force: flags.force === true, onProgress }),
        );
        print({ restored: m.id, seq: m.seq, data: flags.data });
      }),
    );
}

/**
 * Wraps a subcommand's action: a failure prints one line (`tickring: <message>`) and sets the exit status by
 * {@link exitCodeOf}, the one mapping from error codes to exit statuses.
 */
function run<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (err) {
      process.stderr.write(`tickring: ${(err as Error).message}\n`);
      process.exitCode = exitCodeOf(err);
    }
  };
}

/** `POST <url>/v1/admin/snapshot`; the daemon answers `{id, seq, path}` or an error object. */
async function createOnline(url: string, token: string | undefined): Promise<unknown> {
  let endpoint: URL;
  try {
    endpoint = new URL("/v1/admin/snapshot", url);
  } catch {
    throw new OptionError("--url", `not a URL: ${JSON.stringify(url)}`);
  }
  const res = await fetch(endpoint, {
    method: "POST",
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok)
    throw new Error(`${String(body.code ?? res.status)}: ${String(body.message ?? res.statusText)}`);
  return body;
}

/**
 * Runs `op` with a byte progress bar on stderr when stderr is a terminal or `--progress` asks for one
 * (stdout stays clean for the JSON result).
 */
async function withBar<T>(
  label: string,
  forced: boolean | undefined,
  op: (p?: OnProgress) => Promise<T>,
): Promise<T> {
  if (forced !== true && process.stderr.isTTY !== true) return op();
  const bar = new SingleBar({
    stream: process.stderr,
    noTTYOutput: forced === true,
    format: `${label} [{bar}] {percentage}% | {done}/{all} MB | {rate} MB/s`,
    hideCursor: true,
  });
  const t0 = performance.now();
  bar.start(1, 0, { done: "0", all: "0", rate: "0" });
  try {
    return await op((done, total) => {
      const s = (performance.now() - t0) / 1000;
      bar.setTotal(Math.max(total, 1));
      bar.update(done, {
        done: (done / MB).toFixed(1),
        all: (total / MB).toFixed(1),
        rate: s > 0 ? (done / MB / s).toFixed(0) : "0",
      });
    });
  } finally {
    bar.stop();
  }
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
