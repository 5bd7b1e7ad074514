/**
 * The SQL of session-aware transactions and of per-user session limits: setting the
 * transaction's session (read back by `session_id()`, `user_id()`, `audience()` from
 * migration 002), the `sql` query function handed to `sessions.transaction`, the per-user
 * lock, and the trimming of a user's oldest sessions.
 * @module
 */
import type { Queryable, Row, Statement } from "../driver.js";
import { statement } from "./schema.js";
import { quoteIdent } from "../lib/identifier.js";
import type { SessionSql, TableName, TransactionSession } from "../session/table.js";

const SET_SESSION = statement(
  "set_session",
  `SELECT set_config('pgsession.session_id', coalesce($1::text, ''), true),
          set_config('pgsession.user_id', coalesce($2::text, ''), true),
          set_config('pgsession.audience', coalesce($3::text, ''), true)`,
);

const LOCK_USER = statement("lock_user", "SELECT true AS locked FROM pg_advisory_xact_lock(hashtext($1::text))");

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
 * COMMIT or ROLLBACK, so a pooled connection never carries them to its next user.
 *
 * @example
 * ```ts
 * await driver.transaction(async (tx) => { await enterSession(tx, { id, userId, audience: null }); ... });
 * ```
 */
export async function enterSession(tx: Queryable, session: TransactionSession): Promise<void> {
  await tx.query(SET_SESSION, [session.id, session.userId, session.audience]);
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
  await tx.query(LOCK_USER, [`pgsession:user:${names.schema}.${names.table}:${userId}`]);
}

const trimmers = new Map<string, Statement>();

/**
 * Deletes a user's live sessions (in one audience) beyond the `keep` most recently
 * authenticated ones, never `currentId` (the login being made, which counts as the
 * newest), and returns their public ids. `$1` is the clock as everywhere.
 *
 * @example
 * ```ts
 * const revoked = await trimUserSessions(tx, { schema: "pgsession", table: "sessions" }, null, "user-42", null, 5, session.id);
 * ```
 */
export async function trimUserSessions(
  tx: Queryable, names: TableName, now: Date | null, userId: string, audience: string | null, keep: number, currentId: string,
): Promise<string[]> {
  const key = `${names.schema}.${names.table}`;
  let stmt = trimmers.get(key);
  if (!stmt) {
    const t = `${quoteIdent(names.schema)}.${quoteIdent(names.table)}`;
    const NOW = "coalesce($1::timestamptz, now())";
    stmt = statement(
      "trim_user",
      `DELETE FROM ${t} s WHERE s.id IN (
         SELECT k.id FROM ${t} k
          WHERE k.user_id = $2::text AND k.audience IS NOT DISTINCT FROM $3::text AND k.id <> $5::text
            AND k.idle_expires_at > ${NOW} AND k.absolute_expires_at > ${NOW}
          ORDER BY k.authenticated_at DESC NULLS LAST, k.created_at DESC, k.id
          OFFSET $4::integer - 1)
       RETURNING s.id`,
    );
    trimmers.set(key, stmt);
  }
  // The login's own session is kept whatever its time says: its authenticated_at is its
  // transaction's start, which can be older than that of a login committed meanwhile.
  const rows = await tx.query(stmt, [now, userId, audience, keep, currentId]);
  return rows.map((row) => row.id as string);
}
