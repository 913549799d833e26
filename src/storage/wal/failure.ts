/**
 * The WAL's permanent failed state: set once — by a failed fdatasync (after which the kernel may have dropped
 * the dirty pages, so nothing written since the last good sync is trustworthy), or by a failed undo of a
 * write that did not go through (the files no longer match what the writer believes) — and never cleared.
 * Listeners learn it when it happens, not at the next append.
 */
export class WalFailure {
  private _error: unknown = null;
  private readonly listeners: ((err: unknown) => void)[] = [];

  /** The error that failed the WAL, or null while it works. */
  get error(): unknown {
    return this._error;
  }

  /** Throws the failure, if any. */
  check(): void {
    if (this._error !== null) throw this._error;
  }

  /** Enters the failed state with `err` (a second failure is ignored: the first one is the cause). */
  fail(err: unknown): void {
    if (this._error !== null) return;
    this._error = err;
    for (const listener of this.listeners) listener(err);
  }

  /** Registers a listener called once, when the WAL fails (at once if it already has). */
  onFailure(listener: (err: unknown) => void): void {
    if (this._error !== null) listener(this._error);
    else this.listeners.push(listener);
  }
}
