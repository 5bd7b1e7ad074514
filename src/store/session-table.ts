/**
 * The PostgreSQL implementation of the domain's {@link SessionTable}: every database
 * operation pgsession performs, over any {@link StoreDriver}. One method, one statement
 * (one round trip), except on rare paths that say so.
 * @module
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { toStoreError } from "../lib/store-error.js";
import type {
  MigrationStatus,
  PruneResult,
  PruneRun,
  SessionStats,
  SessionTable,
  SessionTableTransaction,
  TableCounts,
  TableName,
} from "../session/table.js";
import { countSessions, sessionStats, sessionTableExists } from "./admin.js";
import type { Queryable, Statement, StoreDriver } from "../driver.js";
import { loadMigrations, migrationHistory, renderCacheTriggers, renderMigration, statement } from "./schema.js";
import { functionsScript } from "./plan-cached.js";
import { PRUNE_LEASE_GRACE_MS, PRUNE_LEASE_POLL_MS, pruneLeaseStatements, type PruneLeaseStatements } from "./prune-lease.js";
import { createSessionSql, enterSession, lockUser, trimUserSessions } from "./session-sql.js";
import { SqlRows, type TableClock } from "./rows.js";
import { statementsFor, type BuiltStatements } from "./statement-forms.js";
import { TABLE_EXISTS, WAIT_FOR_LOCK } from "./statements.js";

/** The PostgreSQL sessions table over one driver. */
class PgSessionTable extends SqlRows implements SessionTable {
  readonly kind: string;
  readonly name: TableName;
  readonly #driver: StoreDriver;
  readonly #clock: TableClock;
  readonly #statements: BuiltStatements;
  readonly #audience: string | null;
  readonly #lease: PruneLeaseStatements;

  constructor(driver: StoreDriver, name: TableName, clock: TableClock, audience: string | null) {
    const statements = statementsFor(name, driver.unnamedStatements === true);
    super(driver, clock, statements, name, audience);
    this.kind = driver.kind;
    this.name = name;
    this.#driver = driver;
    this.#clock = clock;
    this.#statements = statements;
    this.#audience = audience;
    this.#lease = pruneLeaseStatements(name);
  }

  #now(): Date | null {
    return this.#clock === null ? null : this.#clock();
  }

  transaction<T>(fn: (tx: SessionTableTransaction) => Promise<T>): Promise<T> {
    return this.#driver.transaction((tx) =>
      fn({
        rows: new SqlRows(tx, this.#clock, this.#statements, this.name, this.#audience),
        sql: createSessionSql(tx),
        enterSession: (session) => enterSession(tx, this.name, session),
        lockUser: (userId) => lockUser(tx, this.name, userId),
        trimUserSessions: (userId, audience, keep, currentId) =>
          trimUserSessions(tx, this.name, this.#now(), userId, audience, keep, currentId),
      }),
    );
  }

  async #inTransaction<T>(what: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    try {
      return await this.#driver.transaction(fn);
    } catch (err) {
      throw toStoreError(err, what);
    }
  }

  /**
   * Deletes expired rows in batches, each its own short transaction holding the prune lock
   * (an advisory lock) and the prune lease (see `prune-lease.ts`): batches never overlap,
   * and no prune starts in another's pause. Without `wait`, gives up at once (locked: false)
   * when another prune is under way; with it, waits for that prune to end. A prune whose
   * lease another took over (it stalled past the grace) stops where it is, or with `wait`
   * waits and goes on.
   */
  async prune(run: PruneRun): Promise<PruneResult> {
    const total: PruneResult = { deleted: 0, scanned: 0, locked: true };
    const lockKey = `pgsession:prune:${this.name.schema}.${this.name.table}`;
    const sql = this.#statements.sql;
    const lease = this.#lease;
    const holder = randomUUID();
    const ttl = (run.pauseMs ?? 0) + PRUNE_LEASE_GRACE_MS;
    let after = "";
    let started = false;
    for (;;) {
      const now = this.#now();
      const batch = await this.#inTransaction("pruning", async (tx) => {
        // Once this prune has started, only brief holders of the lock stand in its way
        // (other instances finding the lease taken): it waits for them.
        const wait = run.wait || started;
        const lock = await tx.query(wait ? WAIT_FOR_LOCK : sql.pruneLock, [lockKey]);
        if (lock[0]?.locked !== true) return null;
        const claim = await this.run("pruning", lease.claim, [holder, ttl], tx);
        if (claim[0]?.claimed !== true) return null;
        const rows = await this.run("pruning", sql.pruneBatch, [now, after, run.batchSize], tx);
        const row = rows[0] as { last_id: string | null; scanned: number; deleted: number; expired: string };
        // The last batch releases the lease; any other renews it, so the pause starts now.
        if (row.last_id === null || row.scanned < run.batchSize) await this.run("pruning", lease.release, [holder], tx);
        else await this.run("pruning", lease.claim, [holder, ttl], tx);
        return row;
      });
      if (batch === null) {
        if (!run.wait) return started ? total : { ...total, locked: false };
        await sleep(PRUNE_LEASE_POLL_MS);
        continue;
      }
      started = true;
      if (run.onExpired && batch.deleted > 0) {
        const expired = JSON.parse(batch.expired) as Array<[string, string | null, string | null]>;
        run.onExpired(expired.map(([id, userId, audience]) => ({ id, userId, audience })));
      }
      total.deleted += batch.deleted;
      total.scanned += batch.scanned;
      run.onBatch?.({ ...total });
      if (batch.last_id === null || batch.scanned < run.batchSize) return total;
      after = batch.last_id;
      if (run.pauseMs) await sleep(run.pauseMs);
    }
  }

  /**
   * Applies the pending migrations from `sql/` in one transaction, under an advisory
   * lock, so several instances starting at once migrate exactly once, then (re)defines
   * every SQL function from `sql/functions.sql`, so each has one definition; with `cache`,
   * then installs the read cache's triggers (`sql/cache.sql`) when they are missing.
   */
  async migrate(options: { unlogged: boolean; cache?: boolean }): Promise<number[]> {
    const { table: history, create, lockKey } = migrationHistory(this.name);
    return this.#inTransaction("migrating", async (tx) => {
      await tx.query(WAIT_FOR_LOCK, [lockKey]);
      await tx.exec(create);
      const done = await tx.query(statement("migrate_done", `SELECT version FROM ${history}`), []);
      const applied = new Set(done.map((row) => row.version as number));
      const versions: number[] = [];
      for (const migration of loadMigrations()) {
        if (applied.has(migration.version)) continue;
        await tx.exec(renderMigration(migration.sql, this.name, options));
        await tx.query(statement("migrate_record", `INSERT INTO ${history} (version, name) VALUES ($1::integer, $2::text)`), [
          migration.version,
          migration.name,
        ]);
        versions.push(migration.version);
      }
      await tx.exec(functionsScript(this.name));
      if (options.cache === true) await tx.exec(renderCacheTriggers(this.name));
      return versions;
    });
  }

  async migrationStatus(): Promise<MigrationStatus> {
    const history = migrationHistory(this.name).table;
    const latest = Math.max(0, ...loadMigrations().map((m) => m.version));
    const driver = this.#driver;
    const read = async (stmt: Statement, params: unknown[]) => {
      try {
        return await driver.query(stmt, params);
      } catch (err) {
        throw toStoreError(err, "reading migrations");
      }
    };
    const exists = await read(TABLE_EXISTS, [history]);
    if (exists[0]?.present !== true) return { applied: [], latest };
    const rows = await read(statement("migrate_done", `SELECT version FROM ${history} ORDER BY version`), []);
    return { applied: rows.map((row) => row.version as number), latest };
  }

  exists(): Promise<boolean> {
    return sessionTableExists(this.#driver, this.name);
  }

  counts(): Promise<TableCounts> {
    return countSessions(this.#driver, this.name, this.#now());
  }

  stats(): Promise<SessionStats> {
    return sessionStats(this.#driver, this.name, this.#now());
  }

  close(): Promise<void> {
    return this.#driver.close();
  }
}

/**
 * Opens the sessions table `name` over `driver`, on the database's clock or, for tests,
 * an injected one, for the sessions of `audience` (null: the sessions without one). Names
 * must be validated first (`validateIdentifier`).
 *
 * @example
 * ```ts
 * const table = openSessionTable(pgStore(pool), { schema: "pgsession", table: "sessions" }, null, "shop");
 * await table.migrate({ unlogged: false });
 * ```
 */
export function openSessionTable(
  driver: StoreDriver,
  name: TableName,
  clock: TableClock = null,
  audience: string | null = null,
): SessionTable {
  return new PgSessionTable(driver, name, clock, audience);
}
