/**
 * Session-aware transactions: application SQL run in one transaction in which
 * `session_id()`, `user_id()` and `audience()` name the request's session.
 * @module
 */
import { SessionError, SessionGoneError } from "../errors.js";
import { toStoreError } from "../lib/store-error.js";
import { stateOf, type Session } from "../session/session.js";
import type { SessionSql, TransactionSession } from "../session/table.js";
import type { ManagerContext } from "./context.js";
import { publicIdOf } from "./write.js";

/** The query function of a transaction, reporting database failures as `SessionStoreError` (with their SQLSTATE). */
function reportingFailures(sql: SessionSql): SessionSql {
  const wrap = <T>(run: () => Promise<T>): Promise<T> =>
    run().catch((err: unknown) => {
      throw toStoreError(err, "a statement of the session transaction");
    });
  const tagged = (strings: TemplateStringsArray, ...values: unknown[]) => wrap(() => sql(strings, ...values));
  return Object.assign(tagged, { query: (text: string, params?: readonly unknown[]) => wrap(() => sql.query(text, params)) }) as SessionSql;
}

/**
 * Runs `fn` in a transaction whose settings name `session` (transaction-local: they end at
 * COMMIT or ROLLBACK). A stored session is read again inside the transaction: one revoked,
 * logged out or expired since the request resolved it throws `SessionGoneError`, so no
 * query runs under a user id that is no longer signed in. Every database failure (connect,
 * BEGIN, a statement, COMMIT) is a `SessionStoreError`; what `fn` throws itself passes through.
 */
export async function runInSession<T>(ctx: ManagerContext, session: Session<object>, fn: (sql: SessionSql) => Promise<T>): Promise<T> {
  const state = stateOf(session);
  let thrownByFn: { error: unknown } | null = null;
  try {
    return await ctx.table.transaction(async (tx) => {
      const who: TransactionSession = { id: publicIdOf(ctx, state), userId: null, audience: ctx.options.audience };
      if (state.phase === "stored") {
        const row = await tx.rows.peek(state.tokenHash as Uint8Array);
        if (row === null)
          throw new SessionGoneError("pgsession: the session ended (revoked, logged out or expired) before its transaction ran");
        who.userId = row.userId;
        who.audience = row.audience;
      }
      await tx.enterSession(who);
      try {
        return await fn(reportingFailures(tx.sql));
      } catch (error) {
        thrownByFn = { error };
        throw error;
      }
    });
  } catch (err) {
    if (thrownByFn !== null && (thrownByFn as { error: unknown }).error === err) throw err;
    throw err instanceof SessionError ? err : toStoreError(err, "running the session transaction");
  }
}
