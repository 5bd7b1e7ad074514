/**
 * Read-only administrative queries over a sessions table: counts, the oldest session,
 * and usage statistics, for the CLI (`pgsession status`, `pgsession stats`) and for
 * dashboards. Kept apart from the hot-path statements in `statements.ts`, built from the
 * same fragments: a session counts as live here exactly when the hot path would serve it.
 * @module
 */
import { toStoreError } from "../lib/store-error.js";
import type { Row, Statement, StoreDriver } from "../driver.js";
import type { SessionStats, TableCounts, TableName } from "../session/table.js";
import { clockedStatement, type BuiltStatement } from "./sql/build.js";
import { isExpired, isLive, qualifiedName, type Clock } from "./sql/fragments.js";
import { TABLE_EXISTS } from "./statements.js";

/** The admin statements for one sessions table, on one clock. */
export interface AdminStatements {
  readonly counts: BuiltStatement;
  readonly stats: BuiltStatement;
  readonly byAudience: BuiltStatement;
}

/**
 * Builds the admin statements for a validated schema and table, on one clock.
 *
 * @example
 * ```ts
 * const sql = buildAdminStatements({ schema: "pgsession", table: "sessions" }, "database");
 * await driver.query(sql.counts, []);
 * ```
 */
export function buildAdminStatements(names: TableName, clock: Clock): AdminStatements {
  const t = qualifiedName(names);
  return {
    counts: clockedStatement(
      clock,
      "admin_counts",
      {},
      (p) =>
        `SELECT count(*) FILTER (WHERE ${isLive(p.now)})::integer AS live,
              count(*) FILTER (WHERE ${isExpired(p.now)})::integer AS expired,
              count(*) FILTER (WHERE ${isLive(p.now)} AND s.user_id IS NOT NULL)::integer AS authenticated,
              min(s.created_at) FILTER (WHERE ${isLive(p.now)}) AS oldest,
              max(s.created_at) FILTER (WHERE ${isLive(p.now)}) AS newest,
              count(*)::integer AS total
         FROM ${t} s`,
    ),
    stats: clockedStatement(
      clock,
      "admin_stats",
      {},
      (p) =>
        `SELECT count(*) FILTER (WHERE ${isLive(p.now)})::integer AS live,
              count(*) FILTER (WHERE ${isLive(p.now)} AND s.remember)::integer AS remember,
              count(DISTINCT s.user_id) FILTER (WHERE ${isLive(p.now)})::integer AS users,
              count(*) FILTER (WHERE s.created_at > ${p.now} - interval '1 hour')::integer AS created_hour,
              count(*) FILTER (WHERE s.created_at > ${p.now} - interval '1 day')::integer AS created_day,
              count(*) FILTER (WHERE ${isLive(p.now)} AND s.last_seen_at > ${p.now} - interval '1 hour')::integer AS seen_hour,
              count(*) FILTER (WHERE ${isLive(p.now)} AND s.last_seen_at > ${p.now} - interval '1 day')::integer AS seen_day
         FROM ${t} s`,
    ),
    byAudience: clockedStatement(
      clock,
      "admin_by_audience",
      {},
      (p) =>
        `SELECT s.audience, count(*)::integer AS sessions, count(DISTINCT s.user_id)::integer AS users
         FROM ${t} s WHERE ${isLive(p.now)}
        GROUP BY s.audience ORDER BY count(*) DESC, s.audience NULLS FIRST`,
    ),
  };
}

/** The admin statements on `now`'s clock, and the parameters that go with them. */
function adminFor(names: TableName, now: Date | null): { sql: AdminStatements; params: unknown[] } {
  return now === null
    ? { sql: buildAdminStatements(names, "database"), params: [] }
    : { sql: buildAdminStatements(names, "injected"), params: [now] };
}

async function run(driver: StoreDriver, what: string, stmt: Statement, params: readonly unknown[]): Promise<Row[]> {
  try {
    return await driver.query(stmt, params);
  } catch (err) {
    throw toStoreError(err, what);
  }
}

function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(value as string);
}

/**
 * Whether the sessions table exists (the schema has been migrated).
 *
 * @example
 * ```ts
 * if (!(await sessionTableExists(driver, names))) console.log("run pgsession migrate");
 * ```
 */
export async function sessionTableExists(driver: StoreDriver, names: TableName): Promise<boolean> {
  const rows = await run(driver, "checking the sessions table", TABLE_EXISTS, [qualifiedName(names)]);
  return rows[0]?.present === true;
}

/**
 * Live, expired and authenticated counts, and the oldest live session. One statement.
 *
 * @example
 * ```ts
 * const { live, expired } = await countSessions(sessions.db.driver, sessions.db.names);
 * ```
 */
export async function countSessions(driver: StoreDriver, names: TableName, now: Date | null = null): Promise<TableCounts> {
  const { sql, params } = adminFor(names, now);
  const rows = await run(driver, "counting sessions", sql.counts, params);
  const row = rows[0] ?? {};
  return {
    live: Number(row.live ?? 0),
    expired: Number(row.expired ?? 0),
    authenticated: Number(row.authenticated ?? 0),
    oldestCreatedAt: toDate(row.oldest),
    newestCreatedAt: toDate(row.newest),
    total: Number(row.total ?? 0),
  };
}

/**
 * Usage statistics: live sessions per audience, the remember-me share, and creations and
 * activity over the last hour and day. Two statements.
 *
 * @example
 * ```ts
 * const stats = await sessionStats(sessions.db.driver, sessions.db.names);
 * console.log(`${Math.round(stats.rememberShare * 100)}% remember me`);
 * ```
 */
export async function sessionStats(driver: StoreDriver, names: TableName, now: Date | null = null): Promise<SessionStats> {
  const { sql, params } = adminFor(names, now);
  const totals = (await run(driver, "reading session statistics", sql.stats, params))[0] ?? {};
  const audiences = await run(driver, "reading session statistics", sql.byAudience, params);
  const live = Number(totals.live ?? 0);
  const remember = Number(totals.remember ?? 0);
  return {
    byAudience: audiences.map((row) => ({
      audience: (row.audience as string | null) ?? null,
      sessions: Number(row.sessions),
      users: Number(row.users),
    })),
    live,
    remember,
    rememberShare: live === 0 ? 0 : remember / live,
    users: Number(totals.users ?? 0),
    created: { lastHour: Number(totals.created_hour ?? 0), lastDay: Number(totals.created_day ?? 0) },
    seen: { lastHour: Number(totals.seen_hour ?? 0), lastDay: Number(totals.seen_day ?? 0) },
  };
}
