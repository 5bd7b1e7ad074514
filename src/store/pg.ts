/**
 * node-postgres driver: `pgStore(pool)` or `pgStore({ connectionString })`.
 * @module
 */
import pg from "pg";
import type { Queryable, Row, Statement, StoreDriver } from "../driver.js";

/** Options when pgsession creates (and so owns) the pool. */
export type PgStoreOptions = pg.PoolConfig & {
  /** Called with pool-level errors (an idle connection dropped by the server). Default: console.warn. */
  onError?: (err: Error) => void;
};

function reportPoolError(err: Error): void {
  console.warn(`pgsession: idle PostgreSQL connection failed: ${err.message}`);
}

/**
 * Whether `value` is a node-postgres pool, judged by its shape rather than `instanceof`:
 * a pool from another copy of `pg` (two versions in node_modules, a bundler's duplicate)
 * fails `instanceof pg.Pool`, and taken as options it would make a second pool that
 * pgsession then owns and ends, while the application's pool sits unused.
 */
function isPool(value: unknown): value is pg.Pool {
  if (value instanceof pg.Pool) return true;
  if (value === null || typeof value !== "object") return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.connect === "function" && typeof candidate.query === "function" && typeof candidate.on === "function" &&
    typeof candidate.end === "function" && typeof candidate.totalCount === "number";
}

/** What pg's Query reads of its config, set on the instance (the type declares none of it). */
type StatementQuery = pg.Query & {
  name: string; values: unknown[];
  callback: ((err: Error | undefined, result: pg.QueryResult<Row>) => void) | undefined;
};

/**
 * One execution of a named statement. Built from the text and then named: given a config
 * object, pg's Query copies it through property descriptors on every query
 * (`cloneQueryConfig`, 2 % of the CPU of a login in a --cpu-prof profile), given a text it
 * copies nothing; the fields are the ones its constructor would have set.
 */
function statementQuery(statement: Statement, params: readonly unknown[]): StatementQuery {
  const query = new pg.Query(statement.text) as StatementQuery;
  query.name = statement.name;
  query.values = params as unknown[];
  return query;
}

/**
 * Wraps a node-postgres `Pool` (recognized by its shape, so a pool from another copy of `pg`
 * counts too). A pool passed in stays yours (`close()` leaves it open); a
 * pool made from options is the driver's, and `close()` ends it. Either way an `error`
 * listener is attached, so a dropped idle connection never crashes the process.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { pgStore } from "pgsession/pg";
 * const store = pgStore(new pg.Pool({ connectionString: process.env.DATABASE_URL }));
 * ```
 */
export function pgStore(poolOrOptions: pg.Pool | PgStoreOptions = {}): StoreDriver {
  const owned = !isPool(poolOrOptions);
  let pool: pg.Pool;
  let onError: (err: Error) => void = reportPoolError;
  if (owned) {
    const { onError: handler, ...config } = poolOrOptions as PgStoreOptions;
    if (handler) onError = handler;
    pool = new pg.Pool(config);
  } else {
    pool = poolOrOptions as pg.Pool;
  }
  pool.on("error", (err) => onError(err));

  // The lean path needs clients of this module's pg (a pool of another copy of pg, or of
  // pg-native, gets the usual config object).
  const lean = (pool as { Client?: unknown }).Client === pg.Client;
  const on = (client: pg.Pool | pg.PoolClient, pooled: boolean): Queryable => ({
    async query<R extends Row>(statement: Statement, params: readonly unknown[]) {
      if (!lean) {
        const result = await client.query<R>({ name: statement.name, text: statement.text, values: params as unknown[] });
        return result.rows;
      }
      const query = statementQuery(statement, params);
      // The pool sets the callback and answers with a promise; a checked-out client answers
      // a submittable with itself, so the callback is ours.
      if (pooled) return ((await (client.query(query) as unknown as Promise<pg.QueryResult<R>>)).rows);
      return new Promise<R[]>((resolve, reject) => {
        query.callback = (err, result) => (err ? reject(err) : resolve((result as pg.QueryResult<R>).rows));
        client.query(query);
      });
    },
    async exec(script: string) {
      await client.query(script);
    },
  });

  return {
    kind: "pg",
    ...on(pool, true),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      // A checked-out client has no listener of the pool's: a connection dropped between two
      // statements (server restart, pg_terminate_backend) would emit an unhandled 'error' and
      // crash the process. Keep it; the next statement fails and the client is destroyed.
      const onClientError = (err: Error) => {
        broken ??= err;
      };
      client.on("error", onClientError);
      try {
        await client.query("BEGIN");
        const value = await fn(on(client, false));
        await client.query("COMMIT");
        return value;
      } catch (err) {
        try {
          await client.query("ROLLBACK");
        } catch (rollbackError) {
          // The connection is unusable; destroy it rather than return it to the pool.
          broken = rollbackError as Error;
        }
        throw err;
      } finally {
        client.removeListener("error", onClientError);
        client.release(broken ?? false);
      }
    },
    async close() {
      if (owned && !pool.ended) await pool.end();
    },
  };
}
