/**
 * pgsession as the benchmark's pgsession servers use it: the pg driver over the server's
 * pool (statements unnamed behind a pooler in transaction mode), library defaults
 * (touchAfter a tenth of the 24 h idle timeout), one table per server.
 * @module
 */
import type pg from "pg";
import { createSessions, type Session, type Sessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import type { ServerEnv } from "./common.js";
import { newSessionData, type BenchData } from "./floor-db.js";

/**
 * Creates and migrates the session manager of a pgsession server.
 *
 * @example
 * ```ts
 * const sessions = await createBenchSessions(pool, env);
 * ```
 */
export async function createBenchSessions(pool: pg.Pool, env: ServerEnv): Promise<Sessions<BenchData>> {
  const sessions = createSessions<BenchData>({
    store: pgStore(pool, { preparedStatements: env.preparedStatements }),
    schema: env.schema,
    table: env.table,
    // No prune tick may land inside a measured run (nothing here expires anyway).
    prune: false,
    ...(env.touchAfter !== undefined && { touchAfter: env.touchAfter }),
  });
  await sessions.migrate();
  return sessions;
}

/**
 * The three routes on a pgsession session: `/login` stores `{ userId, n: 0 }`, `/read`
 * reads `n`, `/write` increments it. Resolves to the status and body to answer.
 *
 * @example
 * ```ts
 * const { status, body } = handleRoute(req.url, session);
 * ```
 */
export function handleRoute(url: string | undefined, session: Session<BenchData>): { status: number; body: string } {
  if (url === "/login") {
    const data = newSessionData();
    session.set("userId", data.userId);
    session.set("n", data.n);
    return { status: 200, body: "ok" };
  }
  const n = session.get("n");
  if (session.isNew || n === undefined) return { status: 401, body: "no session" };
  if (url === "/write") {
    session.set("n", n + 1);
    return { status: 200, body: String(n + 1) };
  }
  return { status: 200, body: String(n) };
}
