/** Messages between the main thread and the indexer thread. */

/** What the indexer thread starts from. */
export interface IndexerInit {
  walDir: string;
  storeDir: string;
  /** The daemon's shared state: it reads the durable seq and writes the indexed seq. */
  shared: Float64Array;
}

export type FromIndexer =
  | { t: "started" }
  | { t: "stopped" }
  /** The loop stopped on an error it cannot retry. */
  | { t: "failed"; message: string; code: string | undefined }
  /** The store could not write a batch; the indexer tries again after `delayMs`. */
  | { t: "retrying"; message: string; delayMs: number };
