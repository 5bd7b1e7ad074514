/**
 * The SQL of session-aware transactions and of per-user session limits: setting the
 * transaction's session (read back by `session_id()`, `user_id()`, `audience()` of
 * `sql/functions.sql`), the `sql` query function handed to `sessions.transaction`, the
 * per-user lock, and the trimming of a user's oldest sessions.
 * @module
 */
import type { Queryable, Row } from "../driver.js";
import type { SessionSql, TableName, TransactionSession } from "../session/table.js";
import { clockedStatement, plainStatement, type BuiltStatement } from "./sql/build.js";
import { isAudience, isLive, qualifiedName, type Clock } from "./sql/fragments.js";
import { WAIT_FOR_LOCK } from "./statements.js";

/**
 * Sets the settings that session_id(), user_id() and audience() read back; '' stands for
 * null. `schema` names the sessions table's schema: only that schema's functions answer.
 */
export const SET_SESSION = plainStatement(
  "set_session",
  { schema: "text", id: "text", userId: "text", audience: "text" },
  (p) =>
    `SELECT set_config('pgsession.schema', ${p.schema}, true),
          set_config('pgsession.session_id', coalesce(${p.id}, ''), true),
          set_config('pgsession.user_id', coalesce(${p.userId}, ''), true),
          set_config('pgsession.audience', coalesce(${p.audience}, ''), true)`,
);

/**
 * Makes the safe query function over one transaction. Statements are sent unnamed, so an
 * application's ad-hoc queries never pile up as prepared statements on pooled connections.
 *
 * @example
 * ```ts
 * const sql = createSessionSql(tx);
 * const rows = await sql`SELECT ${1}::int AS one`;
 * ```
 */
export function createSessionSql(tx: Queryable): SessionSql {
  const query = <R extends Row = Row>(text: string, params: readonly unknown[] = []): Promise<R[]> => {
    if (typeof text !== "string") throw new TypeError("pgsession: sql.query expects SQL text and an array of parameters");
    return tx.query<R>({ name: "", text }, params);
  };
  const sql = <R extends Row = Row>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]> => {
    if (!Array.isArray(strings) || !("raw" in strings)) {
      throw new TypeError("pgsession: use sql as a tagged template (sql`...${value}`) or call sql.query(text, params)");
    }
    let text = strings[0] ?? "";
    for (let i = 1; i < strings.length; i++) text += `$${i}${strings[i]}`;
    return query<R>(text, values);
  };
  return Object.assign(sql, { query }) as SessionSql;
}

/**
 * Sets the transaction-local session settings (`set_config(..., true)`): they vanish at
 * COMMIT or ROLLBACK, so a pooled connection never carries them to its next user. They
 * name a session of the table `names`: the functions of another schema return null.
 *
 * @example
 * ```ts
 * await driver.transaction(async (tx) => { await enterSession(tx, names, { id, userId, audience: null }); ... });
 * ```
 */
export async function enterSession(tx: Queryable, names: TableName, session: TransactionSession): Promise<void> {
  await tx.query(SET_SESSION, [names.schema, session.id, session.userId, session.audience]);
}

/**
 * Serializes the logins of one user (for the same table) until the transaction ends.
 *
 * @example
 * ```ts
 * await lockUser(tx, store.names, "user-42");
 * ```
 */
export async function lockUser(tx: Queryable, names: TableName, userId: string): Promise<void> {
  await tx.query(WAIT_FOR_LOCK, [`pgsession:user:${names.schema}.${names.table}:${userId}`]);
}

/**
 * The statement that deletes a user's live sessions (in one audience) beyond the `keep`
 * most recently authenticated ones, never `currentId`, on one clock.
 *
 * @example
 * ```ts
 * const trim = buildTrimStatement({ schema: "pgsession", table: "sessions" }, "database");
 * await tx.query(trim, ["user-42", null, 5, session.id]);
 * ```
 */
export function buildTrimStatement(names: TableName, clock: Clock): BuiltStatement {
  const t = qualifiedName(names);
  return clockedStatement(
    clock,
    "trim_user",
    { userId: "text", audience: "text", keep: "integer", currentId: "text" },
    (p) =>
      `DELETE FROM ${t} d WHERE d.id IN (
       SELECT s.id FROM ${t} s
        WHERE s.user_id = ${p.userId} AND ${isAudience(p.audience)} AND s.id <> ${p.currentId}
          AND ${isLive(p.now)}
        ORDER BY s.authenticated_at DESC NULLS LAST, s.created_at DESC, s.id
        OFFSET ${p.keep} - 1)
     RETURNING d.id`,
  );
}

const trimmers = new Map<string, BuiltStatement>();

/**
 * Deletes a user's live sessions (in one audience) beyond the `keep` most recently
 * authenticated ones, never `currentId` (the login being made, which counts as the
 * newest), and returns their public ids. `now` null reads the database's clock.
 *
 * @example
 * ```ts
 * const revoked = await trimUserSessions(tx, { schema: "pgsession", table: "sessions" }, null, "user-42", null, 5, session.id);
 * ```
 */
export async function trimUserSessions(
  tx: Queryable,
  names: TableName,
  now: Date | null,
  userId: string,
  audience: string | null,
  keep: number,
  currentId: string,
): Promise<string[]> {
  const clock: Clock = now === null ? "database" : "injected";
  const key = `${clock}:${names.schema}.${names.table}`;
  let stmt = trimmers.get(key);
  if (!stmt) {
    stmt = buildTrimStatement(names, clock);
    trimmers.set(key, stmt);
  }
  // The login's own session is kept whatever its time says: its authenticated_at is its
  // transaction's start, which can be older than that of a login committed meanwhile.
  const params = [userId, audience, keep, currentId];
  const rows = await tx.query(stmt, now === null ? params : [now, ...params]);
  return rows.map((row) => row.id as string);
}
