/**
 * postgres.js driver: `postgresStore(sql)`.
 * @module
 */
import type { Sql, TransactionSql } from "postgres";
import type { Queryable, Row, Statement, StoreDriver } from "../driver.js";

/**
 * Wraps a postgres.js `sql` instance. The instance stays yours: `close()` does not end it.
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { postgresStore } from "pgsession/postgres";
 * const store = postgresStore(postgres(process.env.DATABASE_URL!));
 * ```
 */
export function postgresStore(sql: Sql): StoreDriver {
  // Unnamed statements (the application's queries in sessions.transaction) are not
  // prepared, so ad-hoc SQL never piles up as prepared statements on pooled connections.
  const on = (client: Sql | TransactionSql): Queryable => ({
    async query<R extends Row>(statement: Statement, params: readonly unknown[]) {
      const rows = await client.unsafe(statement.text, params as never[], { prepare: statement.name !== "" });
      return rows as unknown as R[];
    },
    async exec(script: string) {
      await client.unsafe(script);
    },
  });
  return {
    kind: "postgres",
    ...on(sql),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return (await sql.begin((tx) => fn(on(tx)))) as T;
    },
    async close() {},
  };
}
