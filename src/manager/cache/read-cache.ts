/**
 * The read cache's memory: entries by token hash in a bounded LRU, and the rules that keep
 * them true. It answers only while its change feed vouches for the subscription (every
 * change committed since is reported); it forgets everything whenever the feed loses it; a
 * read from the database is kept only if no change of its session was reported while it
 * was in flight; and a change reported with a version drops an entry older than it.
 * @module
 */
import { LRUCache } from "lru-cache";
import type { ChangeListener, SessionChange } from "../../session/changes.js";
import type { CacheEntry } from "./entry.js";

/**
 * What the read cache is doing (`sessions.cacheStatus()`), for monitoring.
 *
 * @example
 * ```ts
 * const { answering, entries, hits, misses } = sessions.cacheStatus() ?? {};
 * ```
 */
export interface CacheStatus {
  /** Whether the cache answers reads now: its LISTEN connection is verified, and the table has its triggers. */
  answering: boolean;
  /** Sessions held. */
  entries: number;
  /** Most sessions held (`cache.maxEntries`). */
  maxEntries: number;
  /** Reads answered from memory since the start. */
  hits: number;
  /** Reads that went to the database: not held, expired, a touch due, `fresh`, or the cache not answering. */
  misses: number;
  /** Times the subscription was lost (and everything forgotten) since the start. */
  losses: number;
}

/** Reads and writes of one key in flight, and the changes of it reported meanwhile. */
interface Pending {
  count: number;
  /** The highest version a reported change wrote; -1 for none. */
  version: number;
  /** Whether a change without a version (a delete, a new token, any SQL) was reported, or the entry dropped here. */
  dropped: boolean;
}

/**
 * A read from the database that may fill the cache: taken before the read is sent,
 * settled with what it read.
 */
export interface FillTicket {
  readonly key: string;
  /** The cache's epoch when the read was sent; null when the cache was not answering then. */
  readonly epoch: number | null;
}

/**
 * Entries and their rules; receives the change feed's reports.
 *
 * @example
 * ```ts
 * const cache = new ReadCache(100_000, null);
 * feed.start(cache);
 * const entry = cache.lookup(key); // undefined: go to the database
 * ```
 */
export class ReadCache implements ChangeListener {
  readonly #max: number;
  readonly #injectedClock: (() => Date) | null;
  #entries: LRUCache<string, CacheEntry>;
  /** Public id to key, so that a revocation by id finds its entry. */
  #byId = new Map<string, string>();
  readonly #pending = new Map<string, Pending>();
  /** Local time (ms) until which the feed vouches for the subscription; 0 while it is lost. */
  #aliveUntil = 0;
  /** The database's clock minus the local one, ms (as the feed last measured it). */
  #clockOffsetMs = 0;
  /** Raised whenever everything is forgotten or the subscription is (re)made: reads sent before are not kept. */
  #epoch = 0;
  #hits = 0;
  #misses = 0;
  #losses = 0;

  constructor(maxEntries: number, injectedClock: (() => Date) | null) {
    this.#max = maxEntries;
    this.#injectedClock = injectedClock;
    this.#entries = this.#newEntries();
  }

  #newEntries(): LRUCache<string, CacheEntry> {
    const byId = this.#byId;
    return new LRUCache<string, CacheEntry>({
      max: this.#max,
      dispose: (entry, key) => {
        if (byId.get(entry.id) === key) byId.delete(entry.id);
      },
      // An entry replaced under its key keeps its id.
      noDisposeOnSet: true,
    });
  }

  /** Entries held, counts since the start, and whether the cache answers now. */
  status(): CacheStatus {
    return {
      answering: this.answering,
      entries: this.#entries.size,
      maxEntries: this.#max,
      hits: this.#hits,
      misses: this.#misses,
      losses: this.#losses,
    };
  }

  /** Whether the cache answers now: the feed vouches for the subscription. */
  get answering(): boolean {
    return Date.now() < this.#aliveUntil;
  }

  /** The database's clock now, estimated (or the injected clock), ms. */
  databaseNow(): number {
    return this.#injectedClock ? this.#injectedClock().getTime() : Date.now() + this.#clockOffsetMs;
  }

  /** The entry of `key` if it may answer now; undefined sends the read to the database. */
  lookup(key: string): CacheEntry | undefined {
    const now = Date.now();
    if (now >= this.#aliveUntil) return undefined;
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const databaseNow = this.#injectedClock ? this.#injectedClock().getTime() : now + this.#clockOffsetMs;
    if (databaseNow >= entry.validUntil) return undefined;
    this.#hits++;
    return entry;
  }

  /** The entry of `key`, whatever its age and the feed's state, without making it recent. */
  peek(key: string): CacheEntry | undefined {
    return this.#entries.peek(key);
  }

  /**
   * Takes a ticket before a statement that may fill the entry of `key` (a read, or a write
   * of this instance) is sent to the database (see {@link settle}); `read`: a request's
   * read, counted as a miss.
   */
  beginFill(key: string, read = false): FillTicket {
    if (read) this.#misses++;
    const pending = this.#pending.get(key);
    if (pending) pending.count++;
    else this.#pending.set(key, { count: 1, version: -1, dropped: false });
    return { key, epoch: this.answering ? this.#epoch : null };
  }

  /**
   * Settles a statement: keeps `entry` (null: nothing to keep) only if the cache answered
   * when it was sent, nothing was forgotten since, and every change of the key reported
   * while it was in flight is one the entry holds already (a version at most its own): the
   * statement may have run before a change whose notification arrived first.
   */
  settle(ticket: FillTicket, entry: CacheEntry | null): void {
    const pending = this.#pending.get(ticket.key) as Pending;
    if (--pending.count === 0) this.#pending.delete(ticket.key);
    if (entry === null || ticket.epoch !== this.#epoch || pending.dropped || pending.version > entry.version) return;
    if (entry.validUntil <= this.databaseNow()) return;
    this.#entries.set(ticket.key, entry);
    this.#byId.set(entry.id, ticket.key);
  }

  /** Forgets the entry of `key`, and keeps no read of it now in flight. */
  delete(key: string): void {
    const pending = this.#pending.get(key);
    if (pending) pending.dropped = true;
    this.#entries.delete(key);
  }

  /** Forgets the entry of the session with public id `id`, if one is held. */
  deleteById(id: string): void {
    const key = this.#byId.get(id);
    if (key !== undefined) this.delete(key);
  }

  /** Forgets everything, and keeps no read now in flight. */
  clear(): void {
    this.#epoch++;
    // A new LRU rather than clearing the old one: no dispose call per entry.
    this.#byId = new Map();
    this.#entries = this.#newEntries();
  }

  alive(status: { verifiedAt: number; until: number; clockOffsetMs: number }): void {
    // Back after a loss: reads sent while the subscription was not vouched for are not kept.
    if (this.#aliveUntil === 0) this.#epoch++;
    this.#aliveUntil = status.until;
    this.#clockOffsetMs = status.clockOffsetMs;
  }

  lost(): void {
    if (this.#aliveUntil !== 0) this.#losses++;
    this.#aliveUntil = 0;
    this.clear();
  }

  changed(change: SessionChange): void {
    const pending = this.#pending.get(change.key);
    if (pending) {
      if (change.version === null) pending.dropped = true;
      else if (change.version > pending.version) pending.version = change.version;
    }
    const entry = this.#entries.peek(change.key);
    if (entry === undefined) return;
    // This instance's own write, already applied to the entry (or one older still).
    if (change.version !== null && entry.version >= change.version) return;
    this.#entries.delete(change.key);
  }

  flushed(): void {
    this.clear();
  }
}
