/**
 * connect-pg-simple as both peers use it: its own table layout (connect-pg-simple's
 * table.sql, with index names made unique per table), the server's pool, no pruning timer.
 * @module
 */
import type pg from "pg";
import { importUntyped, qualified, type ServerEnv } from "./common.js";

/**
 * Creates the peer's table and returns a connect-pg-simple store for `sessionModule`
 * (express-session, or @fastify/session, which exports a compatible `Store`).
 *
 * @example
 * ```ts
 * const store = await createPeerStore(await importUntyped("express-session"), pool, env);
 * ```
 */
export async function createPeerStore(sessionModule: unknown, pool: pg.Pool, env: ServerEnv): Promise<unknown> {
  const t = qualified(env);
  await pool.query(`CREATE TABLE IF NOT EXISTS ${t} (
      sid varchar NOT NULL COLLATE "default", sess json NOT NULL, expire timestamp(6) NOT NULL,
      CONSTRAINT "${env.table}_pkey" PRIMARY KEY (sid));
    CREATE INDEX IF NOT EXISTS "${env.table}_expire_idx" ON ${t} (expire)`);
  const connectPgSimple = await importUntyped("connect-pg-simple");
  const PgStore = connectPgSimple(sessionModule);
  return new PgStore({ pool, schemaName: env.schema, tableName: env.table, createTableIfMissing: false, pruneSessionInterval: false });
}

/** The peers' three routes on a plain session object (express-session's or @fastify/session's). */
export function handlePeerRoute(url: string, session: Record<string, any>, userId: () => string): { status: number; body: string } {
  if (url === "/login") {
    session.userId = userId();
    session.n = 0;
    return { status: 200, body: "ok" };
  }
  if (typeof session.n !== "number") return { status: 401, body: "no session" };
  if (url === "/write") session.n += 1;
  return { status: 200, body: String(session.n) };
}
