/**
 * The leader lease: one key in a JetStream KV bucket whose entries age out {@link LEASE_TTL_MS} after they
 * were written. The leader writes it when it takes over and rewrites it every {@link RENEW_MS} with a
 * conditional write on its last revision, so it never lapses while the leader runs; a node that finds no
 * key writes one with a conditional create — of several, exactly one succeeds — and becomes the leader.
 *
 * The lease elects; it does not fence. A leader paused for longer than the TTL still believes it leads when
 * it resumes: the stream's `Nats-Expected-Last-Sequence` refuses its appends (replicator.ts), and a leader
 * that could not renew for about a TTL is told so ({@link LeaseEvents.lapsed}) and stops taking ingest.
 */
import type { LeaseBucket } from "./nats-link.js";

/** A lease not rewritten for this long is gone; a standby then takes over. */
export const LEASE_TTL_MS = 5000;
/** How often the leader rewrites its lease. */
const RENEW_MS = 1000;
/**
 * A leader stops taking ingest this long before its lease could lapse (counted from when its last good
 * write was sent): a standby takes over no sooner than the TTL after that write, so the two never ack at
 * once, however the timers of the two processes fall.
 */
const LAPSE_MARGIN_MS = 1500;

/** Who holds the lease: a node's id (unique per process start) and where its publishers should go. */
export interface LeaseHolder {
  id: string;
  /** ws://host:port of its ingest and feeds. */
  url: string;
}

/** What the lease tells its holder. */
export interface LeaseEvents {
  /** Another node holds the lease now (`holder`), or it could not be taken back (null). */
  lost(holder: LeaseHolder | null): void;
  /** Not rewritten for nearly a TTL (NATS unreachable?): it may lapse, or have lapsed, at any moment. */
  lapsed(): void;
  /** Rewritten again after {@link lapsed}. */
  renewed(): void;
}

export class LeaderLease {
  private revision = 0;
  /** When the last good write was sent (ms since the epoch). */
  private writtenAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private lapseTimer: NodeJS.Timeout | undefined;
  private lapsing = false;
  private renewing = false;
  private events: LeaseEvents | undefined;

  constructor(
    private readonly bucket: LeaseBucket,
    private me: LeaseHolder,
  ) {}

  /**
   * Until when (ms since the epoch) this node may take ingest: {@link LAPSE_MARGIN_MS} before the lease
   * could lapse, counted from its last good write. The writer checks it at every commit, so a process
   * paused past it (its timers not run yet) still writes nothing.
   */
  get safeUntil(): number {
    return this.held ? this.writtenAt + LEASE_TTL_MS - LAPSE_MARGIN_MS : 0;
  }

  /** Whether this node holds the lease (as far as it knows). */
  get held(): boolean {
    return this.timer !== undefined;
  }

  /** Who holds the lease now; null when nobody does. */
  async holder(): Promise<LeaseHolder | null> {
    const e = await this.bucket.get();
    return e === null ? null : parseHolder(e.value);
  }

  /** Takes the lease if nobody holds it, and keeps it from then on; false when somebody holds it. */
  async acquire(events: LeaseEvents): Promise<boolean> {
    const at = Date.now();
    const revision = await this.bucket.create(JSON.stringify(this.me));
    if (revision === null) return false;
    this.revision = revision;
    this.events = events;
    this.timer = setInterval(() => this.tick(), RENEW_MS);
    this.written(at);
    return true;
  }

  /** Where this node serves, written with the next renewal (its port is known only once it listens). */
  advertise(url: string): void {
    this.me = { ...this.me, url };
    if (this.held && !this.renewing) void this.renew();
  }

  /** Stops renewing; deletes the key if it is still ours, so a standby takes over without waiting it out. */
  async release(): Promise<void> {
    if (this.timer === undefined) return;
    this.abandon();
    await this.bucket.delete(this.revision);
  }

  /** Stops renewing without deleting the key (another node holds it, or will). */
  abandon(): void {
    clearInterval(this.timer);
    clearTimeout(this.lapseTimer);
    this.timer = undefined;
  }

  /** Each interval: rewrites the lease unless a write is under way. */
  private tick(): void {
    if (!this.renewing) void this.renew();
  }

  /** A write sent at `at` landed: the lease runs until `at` + TTL, and may lapse {@link LAPSE_MARGIN_MS} before. */
  private written(at: number): void {
    this.writtenAt = at;
    clearTimeout(this.lapseTimer);
    this.lapseTimer = setTimeout(
      () => {
        if (this.timer === undefined || this.lapsing) return;
        this.lapsing = true;
        this.events?.lapsed();
      },
      Math.max(0, at + LEASE_TTL_MS - LAPSE_MARGIN_MS - Date.now()),
    );
  }

  private async renew(): Promise<void> {
    const at = Date.now();
    let revision: number | null;
    this.renewing = true;
    try {
      revision = await this.bucket.update(JSON.stringify(this.me), this.revision);
      // The key aged out while we could not write (nobody took it): take it back.
      if (revision === null && (await this.bucket.get()) === null) {
        revision = await this.bucket.create(JSON.stringify(this.me));
      }
    } catch {
      // NATS unreachable for now: the lease runs down, and the lapse timer says when it may be gone.
      return;
    } finally {
      this.renewing = false;
    }
    if (this.timer === undefined) return;
    if (revision === null) {
      this.abandon();
      this.events?.lost(await this.holder().catch(() => null));
      return;
    }
    this.revision = revision;
    this.written(at);
    if (this.lapsing) {
      this.lapsing = false;
      this.events?.renewed();
    }
  }
}

/** A lease value as written by {@link LeaderLease}; one from elsewhere names an unknown holder. */
function parseHolder(value: string): LeaseHolder {
  try {
    const v = JSON.parse(value) as Partial<LeaseHolder>;
    if (typeof v.id === "string" && typeof v.url === "string") return { id: v.id, url: v.url };
  } catch {
    // not ours
  }
  return { id: value, url: "" };
}
