/**
 * Database work per request, from PostgreSQL's cumulative statistics: transactions of the
 * database (pg_stat_database) and row writes of the server's table (pg_stat_user_tables).
 * @module
 */
import pg from "pg";

/** Counters at one moment. */
export interface DbCounters {
  /** Committed transactions of the whole database: each autocommit statement is one. */
  xactCommit: number;
  xactRollback: number;
  tupIns: number;
  tupUpd: number;
  tupHotUpd: number;
  tupDel: number;
}

/** Work per request between two snapshots. */
export interface DbWork {
  /** Transactions committed per request (autocommit statements; a BEGIN..COMMIT block counts once). */
  statementsPerRequest: number;
  /** Rows inserted, updated or deleted in the server's table, per request. */
  rowWritesPerRequest: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsHotUpdated: number;
  rowsDeleted: number;
  /** Transactions between the snapshots, less those of the statistics flush. */
  transactions: number;
}

/**
 * Reads the counters of the current database and of one table. Each call is its own
 * transaction, so it sees a fresh statistics snapshot.
 *
 * @example
 * ```ts
 * const before = await readCounters(client, "pgsession_bench", "floor_node");
 * ```
 */
export async function readCounters(client: pg.Pool | pg.Client, schema: string, table: string): Promise<DbCounters> {
  const { rows } = await client.query<Record<string, string | null>>(
    `SELECT d.xact_commit, d.xact_rollback, t.n_tup_ins, t.n_tup_upd, t.n_tup_hot_upd, t.n_tup_del
       FROM pg_stat_database d
       LEFT JOIN pg_stat_user_tables t ON t.schemaname = $1 AND t.relname = $2
      WHERE d.datname = current_database()`,
    [schema, table],
  );
  const row = rows[0] ?? {};
  const n = (value: string | null | undefined) => Number(value ?? 0);
  return {
    xactCommit: n(row.xact_commit),
    xactRollback: n(row.xact_rollback),
    tupIns: n(row.n_tup_ins),
    tupUpd: n(row.n_tup_upd),
    tupHotUpd: n(row.n_tup_hot_upd),
    tupDel: n(row.n_tup_del),
  };
}

/**
 * The work per request between two snapshots, less `overhead` transactions (the flush's
 * own statements, the snapshots' own reads).
 *
 * @example
 * ```ts
 * const work = workPerRequest(before, after, result.requests, flushed + 1);
 * ```
 */
export function workPerRequest(before: DbCounters, after: DbCounters, requests: number, overhead: number): DbWork {
  const transactions = after.xactCommit - before.xactCommit - overhead;
  const rowsInserted = after.tupIns - before.tupIns;
  const rowsUpdated = after.tupUpd - before.tupUpd;
  const rowsDeleted = after.tupDel - before.tupDel;
  const per = (value: number) => (requests > 0 ? value / requests : 0);
  return {
    statementsPerRequest: per(transactions),
    rowWritesPerRequest: per(rowsInserted + rowsUpdated + rowsDeleted),
    rowsInserted,
    rowsUpdated,
    rowsHotUpdated: after.tupHotUpd - before.tupHotUpd,
    rowsDeleted,
    transactions,
  };
}

/**
 * Creates the benchmark's database when it does not exist (connecting to the server's
 * `postgres` database to do so).
 *
 * @example
 * ```ts
 * await ensureDatabase("postgres://postgres@127.0.0.1:5432/pgsession_bench");
 * ```
 */
export async function ensureDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.end();
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== "3D000") throw err;
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bench: will not create database ${JSON.stringify(name)}`);
  target.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: target.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
}

/**
 * Server and database facts for the report header.
 *
 * @example
 * ```ts
 * const { version, settings } = await describeDatabase(pool);
 * ```
 */
export async function describeDatabase(client: pg.Pool): Promise<{ version: string; settings: Record<string, string> }> {
  const version = (await client.query<{ v: string }>("SELECT version() AS v")).rows[0]?.v ?? "?";
  const { rows } = await client.query<{ name: string; setting: string; unit: string | null }>(
    `SELECT name, setting, unit FROM pg_settings
      WHERE name IN ('shared_buffers', 'max_connections', 'synchronous_commit', 'fsync', 'wal_level', 'plan_cache_mode')`,
  );
  return { version, settings: Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} (${r.unit})` : r.setting])) };
}
