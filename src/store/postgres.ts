/**
 * postgres.js driver: `postgresStore(sql)`.
 * @module
 */
import type { Sql, TransactionSql } from "postgres";
import type { Queryable, Row, Statement, StoreDriver } from "./driver.js";

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
  // pgsession's own statements send strings as text: left to the server's inference, a
  // `$n::jsonb` parameter would be serialized by postgres.js as JSON, turning the JSON text
  // '{"a":1}' into a JSON string. Unnamed statements (the application's queries in
  // sessions.transaction) keep postgres.js's own conventions and are not prepared.
  const bind = (params: readonly unknown[]) => params.map((value) => (typeof value === "string" ? sql.typed(value, 25) : value));
  const on = (client: Sql | TransactionSql): Queryable => ({
    async query<R extends Row>(statement: Statement, params: readonly unknown[]) {
      const own = statement.name !== "";
      const rows = await client.unsafe(statement.text, (own ? bind(params) : params) as never[], { prepare: own });
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
