/**
 * The floor's database work, shared by the node:http, Express and Fastify floors: one
 * primary-key SELECT to read, that SELECT and one UPDATE to write, one INSERT to log in,
 * each a named (prepared) statement on a sessions-like table, or unnamed behind a pooler
 * in transaction mode (as pgsession's are there).
 * @module
 */
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { qualified, type ServerEnv } from "./common.js";

/** The session data every benchmark server stores. */
export type BenchData = {
  userId: string;
  n: number;
};

/** The floor's three operations. */
export interface FloorDb {
  /** One primary-key SELECT of a live row. */
  read(id: string): Promise<BenchData | null>;
  /** One UPDATE of the row's data. */
  update(id: string, data: BenchData): Promise<void>;
  /** One INSERT; resolves to the new id (the cookie value). */
  create(data: BenchData): Promise<string>;
}

/**
 * Creates the floor's table if missing and returns its operations.
 *
 * @example
 * ```ts
 * const db = await createFloorDb(pool, env);
 * const data = await db.read(cookieValue(req.headers.cookie, "sid") ?? "");
 * ```
 */
export async function createFloorDb(pool: pg.Pool, env: ServerEnv): Promise<FloorDb> {
  const t = qualified(env);
  await pool.query(`CREATE TABLE IF NOT EXISTS ${t} (
    id text COLLATE "C" PRIMARY KEY, data jsonb NOT NULL, expires_at timestamptz NOT NULL) WITH (fillfactor = 85)`);
  // pg sends a query without a name unnamed: parsed for that execution only.
  const named = (name: string) => (env.preparedStatements ? name : "");
  const read = { name: named("floor_read"), text: `SELECT data FROM ${t} WHERE id = $1 AND expires_at > now()` };
  const update = { name: named("floor_update"), text: `UPDATE ${t} SET data = $2 WHERE id = $1` };
  const insert = {
    name: named("floor_insert"),
    text: `INSERT INTO ${t} (id, data, expires_at) VALUES ($1, $2, now() + interval '1 day')`,
  };
  return {
    async read(id) {
      const result = await pool.query<{ data: BenchData }>({ ...read, values: [id] });
      return result.rows[0]?.data ?? null;
    },
    async update(id, data) {
      await pool.query({ ...update, values: [id, JSON.stringify(data)] });
    },
    async create(data) {
      const id = randomBytes(24).toString("base64url");
      await pool.query({ ...insert, values: [id, JSON.stringify(data)] });
      return id;
    },
  };
}

let logins = 0;
/** The data of a new session: a fresh user id and a zero counter. */
export function newSessionData(): BenchData {
  logins += 1;
  return { userId: `user-${process.pid}-${logins}`, n: 0 };
}
