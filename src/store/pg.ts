/**
 * node-postgres driver: `pgStore(pool)` or `pgStore({ connectionString })`.
 * @module
 */
import pg from "pg";
import type { Queryable, Row, Statement, StoreDriver } from "../driver.js";
import { SessionConfigError } from "../errors.js";
import { canUseFastQuery, fastQuery } from "./pg-fast-query.js";

/** What the driver itself reads, whoever owns the pool. */
export interface PgDriverOptions {
  /**
   * Whether statements are prepared once per connection under their name (default true),
   * or sent unnamed, parsed anew each time. Set it to false behind a connection pooler in
   * transaction mode (pgbouncer's `pool_mode = transaction`, the pooled endpoints of
   * Supabase and Neon): the pooler hands each transaction whichever server connection is
   * free, where a statement prepared on another one does not exist. A pooler in session
   * mode keeps one server connection per client and needs nothing.
   */
  preparedStatements?: boolean;
}

/**
 * Options when pgsession creates (and so owns) the pool. `connectionTimeoutMillis`
 * defaults to 5 seconds here (pg's default waits forever): a request then fails with
 * `SessionStoreError`, answered 503, instead of hanging while the database is unreachable.
 */
export type PgStoreOptions = pg.PoolConfig &
  PgDriverOptions & {
    /** Called with pool-level errors (an idle connection dropped by the server). Default: console.warn. */
    onError?: (err: Error) => void;
  };

/** Options for a pool passed in, which stays the application's. */
export interface BorrowedPoolOptions extends PgDriverOptions {
  /**
   * Called with the pool's idle-connection errors while the driver is open. Default: none;
   * the pool's owner listens to its `error` event, as node-postgres asks of whoever creates a pool.
   */
  onError?: (err: Error) => void;
}

/** The connection timeout of a pool pgsession creates, unless one is given. */
const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;

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
  return (
    typeof candidate.connect === "function" &&
    typeof candidate.query === "function" &&
    typeof candidate.on === "function" &&
    typeof candidate.end === "function" &&
    typeof candidate.totalCount === "number"
  );
}

/**
 * The config the pool makes its clients from (`pool.options`, which pg's types declare),
 * for a connection of the read cache's own. The password is copied by name: the pool keeps
 * it as a property that a spread would leave out.
 */
function clientConfigOf(pool: pg.Pool): pg.ClientConfig {
  const options = pool.options as pg.PoolConfig;
  return { ...options, password: options.password };
}

/**
 * Wraps a node-postgres `Pool` (recognized by its shape, so a pool from another copy of `pg`
 * counts too). A pool passed in stays yours: `close()` leaves it open, and its idle errors
 * are yours to listen to (or pass `{ onError }`, removed again at `close()`); pgsession adds
 * nothing that outlives the driver and prints nothing of its own. A pool made from options
 * is the driver's: an `error` listener is attached (so a dropped idle connection never
 * crashes the process), a connection timeout of 5 s applies unless given, and `close()` ends it.
 * Behind a pooler in transaction mode, pass `preparedStatements: false` (see {@link PgDriverOptions}).
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { pgStore } from "pgsession/pg";
 * const store = pgStore(new pg.Pool({ connectionString: process.env.DATABASE_URL }));
 * // through pgbouncer in transaction mode, or a pooled endpoint:
 * const pooled = pgStore(new pg.Pool({ connectionString: process.env.POOLED_DATABASE_URL }), { preparedStatements: false });
 * ```
 */
export function pgStore(poolOrOptions: pg.Pool | PgStoreOptions = {}, borrowed: BorrowedPoolOptions = {}): StoreDriver {
  const owned = !isPool(poolOrOptions);
  const prepared = (owned ? (poolOrOptions as PgStoreOptions).preparedStatements : undefined) ?? borrowed.preparedStatements;
  if (prepared !== undefined && typeof prepared !== "boolean") {
    throw new SessionConfigError("preparedStatements", `must be true or false, not ${JSON.stringify(prepared)}`);
  }
  let pool: pg.Pool;
  let onError: ((err: Error) => void) | undefined;
  if (owned) {
    const { onError: handler, preparedStatements: _driverOnly, ...config } = poolOrOptions as PgStoreOptions;
    onError = handler ?? reportPoolError;
    pool = new pg.Pool({ connectionTimeoutMillis: DEFAULT_CONNECTION_TIMEOUT_MS, ...config });
  } else {
    pool = poolOrOptions as pg.Pool;
    onError = borrowed.onError;
  }
  // Removed at close(): many drivers over one long-lived pool must not pile up listeners.
  const listener = onError && ((err: Error) => onError(err));
  if (listener) pool.on("error", listener);

  // Unnamed ("") is what pg sends for a query without a name: parsed for that execution only.
  const named = prepared !== false;
  const fast = canUseFastQuery(pool);
  const on = (client: pg.Pool | pg.PoolClient, pooled: boolean): Queryable => ({
    async query<R extends Row>(statement: Statement, params: readonly unknown[]) {
      const name = named ? statement.name : "";
      if (fast) return fastQuery<R>(client, pooled, statement, params, name);
      const result = await client.query<R>({ name, text: statement.text, values: params as unknown[] });
      return result.rows;
    },
    async exec(script: string) {
      await client.query(script);
    },
  });

  return {
    kind: "pg",
    ...on(pool, true),
    unnamedStatements: !named,
    clientConfig: () => clientConfigOf(pool),
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
      if (listener) pool.removeListener("error", listener);
    },
  };
}
