/**
 * `Atomics.waitAsync`, typed: it is ES2024 and the ES2023 lib this project compiles against does not
 * declare it. The rings sleep on it in threads that have an event loop (a blocking `Atomics.wait` would
 * freeze it).
 */
type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };

export const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/**
 * Resolves once `header[index]` differs from `value` (at once if it already does), with
 * `header[asleepIndex]` set to 1 meanwhile so the other side knows to `Atomics.notify`. The flag is set before
 * the value is compared, so a change in between is either seen or notified: no lost wake-up.
 */
export function sleepUntilChanged(
  header: Int32Array,
  index: number,
  value: number,
  asleepIndex: number,
): Promise<void> {
  Atomics.store(header, asleepIndex, 1);
  const r = waitAsync(header, index, value);
  if (!r.async) {
    Atomics.store(header, asleepIndex, 0);
    return Promise.resolve();
  }
  return r.value.then(() => {
    Atomics.store(header, asleepIndex, 0);
  });
}
