/**
 * The read cache behind the domain's table interface: a {@link SessionTable} that answers
 * `find` from memory while its change feed vouches for every change being reported, and
 * otherwise passes everything to the table it wraps. This instance's own writes update or
 * drop their entries as they return; everyone else's reach it through the feed. Without the
 * `cache` option the manager holds the table itself, so the path without a cache does not
 * change.
 * @module
 */
import type { ChangeFeed } from "../../session/changes.js";
import type {
  CacheableFind,
  DataChanges,
  FindResult,
  LoginChange,
  MigrationStatus,
  MissReason,
  NewSessionRow,
  PruneResult,
  PruneRun,
  SessionRecord,
  SessionStats,
  SessionTable,
  SessionTableTransaction,
  TableCounts,
  TableName,
} from "../../session/table.js";
import { entryOf, insertedEntry, recordOf, savedEntry } from "./entry.js";
import type { ReadCache } from "./read-cache.js";
import { InvalidatingRows, keyOf } from "./invalidating-rows.js";

/** A sessions table with a read cache in front of it. */
class CachedSessionTable extends InvalidatingRows implements SessionTable {
  readonly kind: string;
  readonly name: TableName;
  readonly #table: SessionTable;
  readonly #cache: ReadCache;
  readonly #feed: ChangeFeed;
  #started = false;

  constructor(table: SessionTable, cache: ReadCache, feed: ChangeFeed) {
    super(table, cache);
    this.kind = table.kind;
    this.name = table.name;
    this.#table = table;
    this.#cache = cache;
    this.#feed = feed;
  }

  override async find(tokenHash: Uint8Array, fresh?: boolean): Promise<FindResult> {
    const key = keyOf(tokenHash);
    if (fresh !== true) {
      const entry = this.#cache.lookup(key);
      if (entry !== undefined) return recordOf(entry);
      // Listening starts with the first read that misses: after migrate() has made the triggers.
      if (!this.#started) this.#start();
    }
    const ticket = this.#cache.beginFill(key, true);
    let read: CacheableFind;
    try {
      read = await this.#table.findForCache(tokenHash);
    } catch (err) {
      this.#cache.settle(ticket, null);
      throw err;
    }
    const { found, touchAfterMs } = read;
    const cacheable = typeof found === "object" && found !== null && found.current && touchAfterMs !== null;
    // The entry keeps a copy: the record goes to the request, which may change it.
    this.#cache.settle(ticket, cacheable ? entryOf(found, JSON.stringify(found.data), touchAfterMs) : null);
    return found;
  }

  #start(): void {
    this.#started = true;
    this.#feed.start(this.#cache);
  }

  findForCache(tokenHash: Uint8Array): Promise<CacheableFind> {
    return this.#table.findForCache(tokenHash);
  }

  /** A new session goes into the cache at once: its next request is a hit. */
  override async insert(row: NewSessionRow): Promise<SessionRecord> {
    const key = keyOf(row.tokenHash);
    const at = this.#cache.databaseNow();
    const ticket = this.#cache.beginFill(key);
    let record: SessionRecord;
    try {
      record = await this.#table.insert(row);
    } catch (err) {
      this.#cache.settle(ticket, null);
      throw err;
    }
    this.#cache.settle(ticket, insertedEntry(record, row.data, row.touchAfterMs, at));
    return record;
  }

  /**
   * A write of this instance updates its entry when the version it stored follows the
   * entry's: no other write came in between, so the database merged these changes into
   * exactly the entry's data. Otherwise the entry is dropped. Its own notification may
   * arrive before the answer does, and drops the entry meanwhile; the write then puts it back.
   */
  override async save(
    id: string | null,
    tokenHash: Uint8Array,
    changes: DataChanges,
    expectedVersion: number | null,
  ): Promise<number | MissReason> {
    const key = keyOf(tokenHash);
    const base = this.#cache.peek(key);
    const at = this.#cache.databaseNow();
    const ticket = this.#cache.beginFill(key);
    let result: number | MissReason | undefined;
    try {
      result = await this.#table.save(id, tokenHash, changes, expectedVersion);
      return result;
    } finally {
      if (typeof result === "number" && base !== undefined && base.version + 1 === result) {
        this.#cache.settle(ticket, savedEntry(base, changes, result, at));
      } else {
        this.#cache.settle(ticket, null);
        this.#cache.delete(key);
        if (id !== null) this.#cache.deleteById(id);
      }
    }
  }

  /** A rotation's successor goes into the cache when its `touch_after` is known: a login's, or the entry's it replaces. */
  override async rotate(
    tokenHash: Uint8Array,
    newTokenHash: Uint8Array,
    staleMs: number,
    changes?: DataChanges,
    login?: LoginChange | null,
  ): Promise<SessionRecord | MissReason> {
    const key = keyOf(tokenHash);
    const next = keyOf(newTokenHash);
    const touchAfterMs = login ? login.touchAfterMs : this.#cache.peek(key)?.touchAfterMs;
    const ticket = this.#cache.beginFill(next);
    let result: SessionRecord | MissReason;
    try {
      result = await super.rotate(tokenHash, newTokenHash, staleMs, changes, login);
    } catch (err) {
      this.#cache.settle(ticket, null);
      throw err;
    }
    this.#cache.settle(
      ticket,
      typeof result === "object" && touchAfterMs !== undefined ? entryOf(result, JSON.stringify(result.data), touchAfterMs) : null,
    );
    return result;
  }

  async transaction<T>(fn: (tx: SessionTableTransaction) => Promise<T>): Promise<T> {
    let rows: InvalidatingRows | null = null;
    try {
      return await this.#table.transaction((tx) => {
        const written = new InvalidatingRows(tx.rows, this.#cache, true);
        rows = written;
        return fn({
          rows: written,
          sql: tx.sql,
          enterSession: (session) => tx.enterSession(session),
          lockUser: (userId) => tx.lockUser(userId),
          trimUserSessions: async (userId, audience, keep, currentId) => {
            const ids = await tx.trimUserSessions(userId, audience, keep, currentId);
            written.forgetIds(ids);
            return ids;
          },
        });
      });
    } finally {
      // Committed or not, what the transaction wrote is read again from the database.
      (rows as InvalidatingRows | null)?.invalidate();
    }
  }

  prune(run: PruneRun): Promise<PruneResult> {
    return this.#table.prune(run);
  }

  migrate(options: { unlogged: boolean; cache?: boolean }): Promise<number[]> {
    return this.#table.migrate(options);
  }

  migrationStatus(): Promise<MigrationStatus> {
    return this.#table.migrationStatus();
  }

  exists(): Promise<boolean> {
    return this.#table.exists();
  }

  counts(): Promise<TableCounts> {
    return this.#table.counts();
  }

  stats(): Promise<SessionStats> {
    return this.#table.stats();
  }

  async close(): Promise<void> {
    await this.#feed.close();
    this.#cache.lost();
    await this.#table.close();
  }
}

/**
 * Puts a read cache in front of `table`, kept true by `feed` (which starts listening on the
 * first read).
 *
 * @example
 * ```ts
 * const table = cachedTable(openSessionTable(driver, names), new ReadCache(100_000, null), feed);
 * ```
 */
export function cachedTable(table: SessionTable, cache: ReadCache, feed: ChangeFeed): SessionTable {
  return new CachedSessionTable(table, cache, feed);
}
