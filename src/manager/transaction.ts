/**
 * Session-aware transactions: application SQL run in one transaction in which
 * `session_id()`, `user_id()` and `audience()` name the request's session.
 * @module
 */
import { toStoreError } from "../lib/store-error.js";
import { stateOf, type Session } from "../session/session.js";
import type { SessionSql } from "../session/table.js";
import type { ManagerContext } from "./context.js";
import { publicIdOf } from "./write.js";

/** Runs `fn` in a transaction whose settings name `session` (transaction-local: they end at COMMIT or ROLLBACK). */
export async function runInSession<T>(ctx: ManagerContext, session: Session<object>, fn: (sql: SessionSql) => Promise<T>): Promise<T> {
  const state = stateOf(session);
  const who = { id: publicIdOf(ctx, state), userId: session.userId, audience: state.record ? state.record.audience : ctx.options.audience };
  return ctx.table.transaction(async (tx) => {
    try {
      await tx.enterSession(who);
    } catch (err) {
      throw toStoreError(err, "starting the session transaction");
    }
    return fn(tx.sql);
  });
}
