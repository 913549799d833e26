/** Byte progress of a long snapshot operation, reported through one callback (the CLI draws a bar from it). */

/** Called as bytes are processed: `done` of an estimated `total` (the total may grow as work is found). */
export type OnProgress = (done: number, total: number) => void;

/** Accumulates bytes and forwards them to an {@link OnProgress}, if any. */
export class ByteProgress {
  private done = 0;

  constructor(
    private total: number,
    private readonly report?: OnProgress,
  ) {
    report?.(0, total);
  }

  /** Counts `bytes` more as done. Bound, so it can be passed as an `OnBytes` callback. */
  readonly add = (bytes: number): void => {
    this.done += bytes;
    if (this.done > this.total) this.total = this.done;
    this.report?.(this.done, this.total);
  };

  /** Marks everything done (estimates rarely end exact). */
  finish(): void {
    this.total = this.done;
    this.report?.(this.done, this.total);
  }
}
