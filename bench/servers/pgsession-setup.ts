/**
 * pgsession as the benchmark's pgsession servers use it: the pg driver over the server's
 * pool (statements unnamed behind a pooler in transaction mode), library defaults
 * (touchAfter a tenth of the 24 h idle timeout), one table per server; the `-cache`
 * servers add the read cache (LISTEN on a connection of its own, made from the pool's config).
 * @module
 */
import type pg from "pg";
import { createSessions, type Session, type Sessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import type { ServerEnv } from "./common.js";
import { newSessionData, type BenchData } from "./floor-db.js";

/** How a pgsession server differs from the plain one. */
export interface BenchVariant {
  /** The read cache on (`-cache` servers). */
  cache?: boolean;
  /** The cache's triggers on the table, without the cache (what they cost a deployment that does not listen). */
  triggers?: boolean;
}

/** The read cache of the `-cache` servers: room for every session a run creates. */
const BENCH_CACHE = { maxEntries: 200_000 };

/**
 * Creates and migrates the session manager of a pgsession server.
 *
 * @example
 * ```ts
 * const sessions = await createBenchSessions(pool, env, { cache: true });
 * ```
 */
export async function createBenchSessions(pool: pg.Pool, env: ServerEnv, variant: BenchVariant = {}): Promise<Sessions<BenchData>> {
  const sessions = createSessions<BenchData>({
    store: pgStore(pool, { preparedStatements: env.preparedStatements }),
    schema: env.schema,
    table: env.table,
    // No prune tick may land inside a measured run (nothing here expires anyway).
    prune: false,
    ...(env.touchAfter !== undefined && { touchAfter: env.touchAfter }),
    ...(variant.cache === true && { cache: BENCH_CACHE }),
  });
  await sessions.migrate({ cache: variant.cache === true || variant.triggers === true });
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
