/** Waiting on running daemons, for the replication benchmark and tests: poll until a check holds. */

/**
 * Polls `check` every `everyMs` until it holds (a throw counts as not yet: a node starting, or starting
 * again, refuses connections for a moment); rejects after `timeoutMs`, saying `what`.
 */
export async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
