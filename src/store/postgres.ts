/**
 * postgres.js driver: `postgresStore(sql)`.
 * @module
 */
import type { Sql, TransactionSql } from "postgres";
import type { Queryable, Row, Statement, StoreDriver } from "../driver.js";
import { SessionConfigError } from "../errors.js";

/** Options of {@link postgresStore}. */
export interface PostgresStoreOptions {
  /**
   * Whether pgsession's statements are prepared once per connection (the default), or sent
   * unnamed. It follows the instance's own `prepare` option unless given: create the
   * instance with `postgres(url, { prepare: false })` behind a connection pooler in
   * transaction mode (pgbouncer's `pool_mode = transaction`, the pooled endpoints of
   * Supabase and Neon), so that the application's queries are unnamed too. `true` on an
   * instance with `prepare: false` is a configuration error: postgres.js then prepares
   * nothing, whatever a query asks.
   */
  preparedStatements?: boolean;
}

/** The instance's own `prepare` option, when this postgres.js exposes it (`sql.options.prepare`). */
function preparesByDefault(sql: Sql): boolean {
  const options = (sql as { options?: { prepare?: unknown } }).options;
  return options?.prepare !== false;
}

/**
 * Wraps a postgres.js `sql` instance. The instance stays yours: `close()` does not end it.
 * Behind a pooler in transaction mode, create it with `prepare: false` (see
 * {@link PostgresStoreOptions}).
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { postgresStore } from "pgsession/postgres";
 * const store = postgresStore(postgres(process.env.DATABASE_URL!));
 * // through pgbouncer in transaction mode, or a pooled endpoint:
 * const pooled = postgresStore(postgres(process.env.POOLED_DATABASE_URL!, { prepare: false }));
 * ```
 */
export function postgresStore(sql: Sql, options: PostgresStoreOptions = {}): StoreDriver {
  const { preparedStatements } = options;
  if (preparedStatements !== undefined && typeof preparedStatements !== "boolean") {
    throw new SessionConfigError("preparedStatements", `must be true or false, not ${JSON.stringify(preparedStatements)}`);
  }
  const instancePrepares = preparesByDefault(sql);
  if (preparedStatements === true && !instancePrepares) {
    throw new SessionConfigError(
      "preparedStatements",
      "is true, but the postgres.js instance was created with prepare: false, which prepares nothing; leave the option out to follow the instance",
    );
  }
  const prepared = preparedStatements ?? instancePrepares;
  // Unnamed statements (the application's queries in sessions.transaction, and all of them
  // when not prepared) are parsed for one execution, so nothing piles up as prepared
  // statements on pooled connections.
  const on = (client: Sql | TransactionSql): Queryable => ({
    async query<R extends Row>(statement: Statement, params: readonly unknown[]) {
      const rows = await client.unsafe(statement.text, params as never[], { prepare: prepared && statement.name !== "" });
      return rows as unknown as R[];
    },
    async exec(script: string) {
      await client.unsafe(script);
    },
  });
  return {
    kind: "postgres",
    ...on(sql),
    unnamedStatements: !prepared,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return (await sql.begin((tx) => fn(on(tx)))) as T;
    },
    async close() {},
  };
}
