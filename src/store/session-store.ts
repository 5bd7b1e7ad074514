/**
 * The SessionStore contract: every database operation pgsession performs, over any
 * {@link StoreDriver}. One method, one statement (one round trip), except on rare paths
 * that say so.
 * @module
 */
import { toStoreError } from "../errors.js";
import type { Queryable, Row, Statement, StoreDriver } from "./driver.js";
import { loadMigrations, quoteIdent, renderFunctions, renderMigration, statement, type TableName } from "./schema.js";
import { buildStatements, type Statements } from "./statements.js";
import { recordOf } from "./row.js";

/** A session row as the core sees it. Never carries the token or its hash. */
export interface SessionRecord {
  id: string;
  userId: string | null;
  audience: string | null;
  data: Record<string, unknown>;
  version: number;
  remember: boolean;
  createdAt: Date;
  lastSeenAt: Date;
  authenticatedAt: Date | null;
  expiresAt: Date;
  absoluteExpiresAt: Date;
  /** False when the row was found by its previous token, inside the rotation grace window. */
  current: boolean;
  /** True when this read also extended the idle expiry. */
  touched: boolean;
  /**
   * An upper bound of the length of the data's JSON text, in characters: the length of
   * the row's whole JSON as read (0 where the data was not read back: insert).
   */
  dataLength: number;
}

/** A session as listed for its user. */
export interface SessionSummary {
  id: string;
  audience: string | null;
  remember: boolean;
  ip: string | null;
  userAgent: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  authenticatedAt: Date | null;
  expiresAt: Date;
}

/** What a new row holds. */
export interface NewSessionRow {
  id: string;
  tokenHash: Uint8Array;
  userId: string | null;
  audience: string | null;
  data: string;
  remember: boolean;
  ip: string | null;
  userAgent: string | null;
  idleMs: number;
  touchAfterMs: number;
  absoluteMs: number;
}

/** Changed keys, serialized. */
export interface DataChanges {
  /** JSON array of deleted keys. */
  deleted: string;
  /** JSON object of keys set. */
  set: string;
  /** Whether the data was cleared before these changes. */
  cleared: boolean;
}

/** What a rotation also does when it is a login. */
export interface LoginChange {
  userId: string | null;
  remember: boolean;
  idleMs: number;
  touchAfterMs: number;
  absoluteMs: number;
  ip: string | null;
  userAgent: string | null;
}

/** Result of a write that matched no row. */
export type MissReason = "gone" | "conflict" | "stale";

/** Outcome of one prune run. */
export interface PruneResult {
  /** Rows deleted. */
  deleted: number;
  /** Rows examined. */
  scanned: number;
  /** False when another instance held the prune lock and this run did nothing. */
  locked: boolean;
}

/**
 * A session deleted by pruning because it had expired.
 *
 * @example
 * ```ts
 * await store.prune(null, { batchSize: 1000, wait: true, onExpired: (gone: ExpiredSession[]) => console.log(gone.length) });
 * ```
 */
export interface ExpiredSession {
  id: string;
  userId: string | null;
  audience: string | null;
}

const EMPTY_CHANGES: DataChanges = { deleted: "[]", set: "{}", cleared: false };
// Blocks until this transaction holds the named lock (migrations, explicit prunes).
const WAIT_FOR_LOCK = statement("wait_lock", "SELECT true AS locked FROM pg_advisory_xact_lock(hashtext($1::text))");
const TABLE_EXISTS = statement("table_exists", "SELECT to_regclass($1::text) IS NOT NULL AS present");

/** The public id, user and audience of a row a DELETE returned. */
function removedSession(row: Row): ExpiredSession {
  return { id: row.id as string, userId: (row.user_id as string | null) ?? null, audience: (row.audience as string | null) ?? null };
}

const built = new Map<string, { sql: Statements; onDatabaseClock: ReadonlyMap<Statement, Statement> }>();

/** The statements of one table, built once per process (a transaction's store reuses them). */
function statementsFor(names: TableName) {
  const key = `${names.schema}.${names.table}`;
  let entry = built.get(key);
  if (!entry) {
    const sql = buildStatements(names, "injected");
    const database = buildStatements(names, "database");
    const plainForms = new Map<Statement, Statement>();
    for (const name of Object.keys(sql) as Array<keyof Statements>) {
      if (sql[name].takesClock) plainForms.set(sql[name], database[name]);
    }
    entry = { sql, onDatabaseClock: plainForms };
    built.set(key, entry);
  }
  return entry;
}

/**
 * All SQL pgsession runs, for one table, over one driver.
 *
 * @example
 * ```ts
 * const store = new SessionStore(pgStore(pool), { schema: "pgsession", table: "sessions" });
 * await store.migrate({ unlogged: false });
 * ```
 */
export class SessionStore {
  readonly driver: StoreDriver;
  readonly names: TableName;
  readonly #sql: Statements;
  /** Each statement that takes the clock, to its form on the database's clock alone. */
  readonly #onDatabaseClock: ReadonlyMap<Statement, Statement>;

  constructor(driver: StoreDriver, names: TableName) {
    this.driver = driver;
    this.names = names;
    ({ sql: this.#sql, onDatabaseClock: this.#onDatabaseClock } = statementsFor(names));
  }

  async #run(what: string, stmt: Statement, params: readonly unknown[], on: Queryable = this.driver): Promise<Row[]> {
    // No injected clock ($1 null): the statement that uses now() and takes one parameter fewer.
    if (params[0] === null) {
      const plain = this.#onDatabaseClock.get(stmt);
      if (plain !== undefined) {
        stmt = plain;
        params = params.slice(1);
      }
    }
    try {
      return await on.query(stmt, params);
    } catch (err) {
      throw toStoreError(err, what);
    }
  }

  /**
   * Reads a live session by token hash, extending its idle expiry if a touch is due.
   * Resolves to `"retired"` for the token a login replaced (within the grace window): it
   * names a session it may not reach.
   */
  async find(now: Date | null, tokenHash: Uint8Array): Promise<SessionRecord | "retired" | null> {
    const rows = await this.#run("reading the session", this.#sql.find, [now, tokenHash]);
    if (rows[0]) return recordOf(rows[0]);
    // Rare: a token rotated away within its grace window (or one that is unknown or expired).
    const previous = await this.#run("reading the session", this.#sql.findPrevious, [now, tokenHash]);
    if (!previous[0]) return null;
    return previous[0].retired === true ? "retired" : recordOf(previous[0]);
  }

  /** Reads a live session without touching it. */
  async peek(now: Date | null, tokenHash: Uint8Array): Promise<(SessionRecord & { expiresInMs: number }) | null> {
    const rows = await this.#run("reading the session", this.#sql.peek, [now, tokenHash]);
    return rows[0] ? { ...recordOf(rows[0]), expiresInMs: Math.floor(rows[0].expires_in as number) } : null;
  }

  /**
   * Inserts a new session (INSERT only; never adopts an existing row). Nothing is sent
   * back (returning the row was a fifth of the statement's cost in PostgreSQL): the record
   * is what was inserted, its times by the application's clock at the call (the injected
   * one, if any; the database's clock still governs the expiry). Its `data` is empty: the
   * caller holds it.
   */
  async insert(now: Date | null, row: NewSessionRow): Promise<SessionRecord> {
    const at = now ?? new Date();
    await this.#run("creating the session", this.#sql.insert, [
      now, row.tokenHash, row.id, row.userId, row.audience, row.data, row.remember, row.ip, row.userAgent,
      row.idleMs, row.touchAfterMs, row.absoluteMs,
    ]);
    const ms = at.getTime();
    return {
      id: row.id, userId: row.userId, audience: row.audience, data: {}, version: 1, remember: row.remember,
      createdAt: at, lastSeenAt: at, authenticatedAt: row.userId === null ? null : at,
      expiresAt: new Date(ms + Math.min(row.idleMs, row.absoluteMs)), absoluteExpiresAt: new Date(ms + row.absoluteMs),
      current: true, touched: false, dataLength: 0,
    };
  }

  /**
   * Merges changed keys into a live session, found by public id (`null`: by token only).
   * Returns the new version, or why nothing was written.
   */
  async save(now: Date | null, id: string | null, tokenHash: Uint8Array, changes: DataChanges, expectedVersion: number | null): Promise<number | MissReason> {
    if (expectedVersion === null && !changes.cleared && changes.deleted === "[]") {
      const merged = await this.#run("saving the session", this.#sql.saveMerge, [now, tokenHash, changes.set]);
      if (merged[0]) return merged[0].version as number;
      // Not by the current token: the general statement tells a grace-window token from a session gone.
    }
    const params = [now, tokenHash, changes.deleted, changes.set, changes.cleared, expectedVersion];
    const rows = id === null
      ? await this.#run("saving the session", this.#sql.saveByToken, params)
      : await this.#run("saving the session", this.#sql.save, [...params, id]);
    if (rows[0]) return rows[0].version as number;
    return this.#miss(now, tokenHash, expectedVersion !== null);
  }

  /** Gives the session a new token (and, for a login, a user), merging pending changes. */
  async rotate(now: Date | null, tokenHash: Uint8Array, newTokenHash: Uint8Array, staleMs: number,
    changes: DataChanges = EMPTY_CHANGES, login: LoginChange | null = null): Promise<SessionRecord | MissReason> {
    const rows = await this.#run(login ? "logging in" : "rotating the session", this.#sql.rotate, [
      now, tokenHash, newTokenHash, staleMs, changes.deleted, changes.set, changes.cleared,
      login !== null, login?.userId ?? null, login?.remember ?? false, login?.idleMs ?? 0,
      login?.touchAfterMs ?? 0, login?.absoluteMs ?? 0, login?.ip ?? null, login?.userAgent ?? null,
    ]);
    return rows[0] ? recordOf(rows[0]) : this.#miss(now, tokenHash, false);
  }

  /** Replaces the whole data (low-level API), optionally resetting the expiry to `ttlMs`. */
  async replace(now: Date | null, tokenHash: Uint8Array, data: string, ttlMs: number | null): Promise<boolean> {
    const rows = await this.#run("saving the session", this.#sql.replace, [now, tokenHash, data, ttlMs]);
    return rows.length > 0;
  }

  /** Deletes the session the token (or its grace-window predecessor) names. */
  async remove(now: Date | null, tokenHash: Uint8Array): Promise<ExpiredSession | null> {
    const rows = await this.#run("deleting the session", this.#sql.remove, [now, tokenHash]);
    return rows[0] ? removedSession(rows[0]) : null;
  }

  /** Ends a session but leaves an expired, empty row until pruned, so it cannot be inserted again meanwhile. */
  async retire(now: Date | null, tokenHash: Uint8Array): Promise<boolean> {
    return (await this.#run("ending the session", this.#sql.retire, [now, tokenHash])).length > 0;
  }

  // Rare path: a write matched no row; one more query tells the caller why.
  async #miss(now: Date | null, tokenHash: Uint8Array, compareAndSet: boolean): Promise<MissReason> {
    const rows = await this.#run("checking the session", this.#sql.probe, [now, tokenHash]);
    if (!rows[0]) return "gone";
    if (rows[0].current === false) return "stale";
    return compareAndSet ? "conflict" : "gone";
  }

  /** Live sessions of a user, most recently seen first. */
  async listByUser(now: Date | null, userId: string, audience: string | null): Promise<SessionSummary[]> {
    const rows = await this.#run("listing sessions", this.#sql.listByUser, [now, userId, audience]);
    return rows.map((row) => ({
      id: row.id as string,
      audience: (row.audience as string | null) ?? null,
      remember: row.remember as boolean,
      ip: (row.ip as string | null) ?? null,
      userAgent: (row.user_agent as string | null) ?? null,
      createdAt: row.created_at as Date,
      lastSeenAt: row.last_seen_at as Date,
      authenticatedAt: (row.authenticated_at as Date | null) ?? null,
      expiresAt: row.expires_at as Date,
    }));
  }

  /** Deletes one session by public id. */
  async revokeById(id: string): Promise<ExpiredSession | null> {
    const rows = await this.#run("revoking the session", this.#sql.revokeById, [id]);
    return rows[0] ? removedSession(rows[0]) : null;
  }

  /**
   * Deletes a user's sessions, optionally within one audience, except one, or only those
   * issued (logged in, or else created) before a time.
   */
  async revokeByUser(userId: string, options: { audience: string | null; exceptId: string | null; issuedBefore: Date | null }): Promise<ExpiredSession[]> {
    const rows = await this.#run("revoking sessions", this.#sql.revokeByUser, [
      userId, options.audience, options.exceptId, options.issuedBefore,
    ]);
    return rows.map(removedSession);
  }

  /** Live sessions (public id, data, expiry), by id, at most `limit` of them. */
  async listLive(now: Date | null, audience: string | null, limit: number): Promise<Array<{ id: string; data: Record<string, unknown>; expiresAt: Date }>> {
    const rows = await this.#run("listing sessions", this.#sql.listLive, [now, audience, limit]);
    return rows.map((row) => ({ id: row.id as string, data: (row.data as Record<string, unknown>) ?? {}, expiresAt: row.expires_at as Date }));
  }

  /** How many sessions are live. */
  async countLive(now: Date | null, audience: string | null): Promise<number> {
    const rows = await this.#run("counting sessions", this.#sql.countLive, [now, audience]);
    return (rows[0]?.n as number | undefined) ?? 0;
  }

  /** Deletes every session (of one audience when given); resolves to the count. */
  async removeAll(audience: string | null): Promise<number> {
    const rows = await this.#run("deleting sessions", this.#sql.removeAll, [audience]);
    return (rows[0]?.n as number | undefined) ?? 0;
  }

  /**
   * Deletes expired rows in batches of `batchSize`, each batch its own short transaction
   * holding an advisory lock; gives up at once (locked: false) when another instance
   * holds it.
   */
  async prune(now: Date | null, options: {
    batchSize: number; wait: boolean; onBatch?: (progress: PruneResult) => void;
    /** Milliseconds to wait between batches (outside any transaction), leaving the database to live traffic. */
    pauseMs?: number;
    /** The sessions each batch deleted (public id, user, audience). */
    onExpired?: (sessions: ExpiredSession[]) => void;
  }): Promise<PruneResult> {
    const total: PruneResult = { deleted: 0, scanned: 0, locked: true };
    const lockKey = `pgsession:prune:${this.names.schema}.${this.names.table}`;
    let after = "";
    for (;;) {
      const batch = await this.#inTransaction("pruning", async (tx) => {
        const lock = options.wait
          ? await tx.query(WAIT_FOR_LOCK, [lockKey])
          : await tx.query(this.#sql.pruneLock, [lockKey]);
        if (lock[0]?.locked !== true) return null;
        const rows = await this.#run("pruning", this.#sql.pruneBatch, [now, after, options.batchSize], tx);
        return rows[0] as { last_id: string | null; scanned: number; deleted: number; expired: string };
      });
      if (batch === null) return { ...total, locked: false };
      if (options.onExpired && batch.deleted > 0) {
        const expired = JSON.parse(batch.expired) as Array<[string, string | null, string | null]>;
        options.onExpired(expired.map(([id, userId, audience]) => ({ id, userId, audience })));
      }
      total.deleted += batch.deleted;
      total.scanned += batch.scanned;
      options.onBatch?.({ ...total });
      if (batch.last_id === null || batch.scanned < options.batchSize) return total;
      after = batch.last_id;
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  }

  async #inTransaction<T>(what: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    try {
      return await this.driver.transaction(fn);
    } catch (err) {
      throw toStoreError(err, what);
    }
  }

  /**
   * Applies the pending migrations from `sql/` in one transaction, under an advisory
   * lock, so several instances starting at once migrate exactly once, then (re)defines
   * the SQL functions of `sql/functions.sql` in the same transaction. The lock is the
   * schema's, since its tables share those functions. Returns the versions applied
   * (empty when already up to date).
   */
  async migrate(options: { unlogged: boolean }): Promise<number[]> {
    const schema = quoteIdent(this.names.schema);
    const history = `${schema}.${quoteIdent(`${this.names.table}_migrations`)}`;
    const lockKey = `pgsession:migrate:${this.names.schema}`;
    return this.#inTransaction("migrating", async (tx) => {
      await tx.query(WAIT_FOR_LOCK, [lockKey]);
      await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${schema};
        CREATE TABLE IF NOT EXISTS ${history} (
          version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const done = await tx.query(statement("migrate_done", `SELECT version FROM ${history}`), []);
      const applied = new Set(done.map((row) => row.version as number));
      const versions: number[] = [];
      for (const migration of loadMigrations()) {
        if (applied.has(migration.version)) continue;
        await tx.exec(renderMigration(migration.sql, this.names, options));
        await tx.query(statement("migrate_record", `INSERT INTO ${history} (version, name) VALUES ($1::integer, $2::text)`), [
          migration.version, migration.name,
        ]);
        versions.push(migration.version);
      }
      await tx.exec(renderFunctions(this.names));
      return versions;
    });
  }

  /** Versions applied so far, and the latest the package ships. */
  async migrationStatus(): Promise<{ applied: number[]; latest: number }> {
    const history = `${quoteIdent(this.names.schema)}.${quoteIdent(`${this.names.table}_migrations`)}`;
    const latest = Math.max(0, ...loadMigrations().map((m) => m.version));
    const exists = await this.#run("reading migrations", TABLE_EXISTS, [history]);
    if (exists[0]?.present !== true) return { applied: [], latest };
    const rows = await this.#run("reading migrations", statement("migrate_done", `SELECT version FROM ${history} ORDER BY version`), []);
    return { applied: rows.map((row) => row.version as number), latest };
  }
}
