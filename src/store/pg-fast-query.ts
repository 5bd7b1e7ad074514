/**
 * The one place pgsession leans on node-postgres internals. pg's `Query` copies a config
 * object through property descriptors on every query; built from a bare text it copies
 * nothing, and this module then sets the fields its constructor would have set from a
 * config (`name`, `values`, and for a checked-out client `callback`). pg declares none of
 * them in its types, so `test/contract/pg-driver.test.ts` compares this query with one pg builds from
 * a config, field by field, and fails when a pg release changes what its constructor sets.
 * Named and unnamed statements (`preparedStatements: false`) take the same path. Used only
 * for clients of the `pg` this package imports; any other pool (another copy of pg,
 * pg-native) gets pg's documented config object. The gain is in docs/performance.md.
 * @module
 */
import pg from "pg";
import type { Row, Statement } from "../driver.js";

/** What pg's Query reads of its config, set on the instance (the type declares none of it). */
type StatementQuery = pg.Query & {
  name: string;
  values: unknown[];
  callback: ((err: Error | undefined, result: pg.QueryResult<Row>) => void) | undefined;
};

/**
 * Whether `pool` makes clients of this module's pg, so that the fast query applies.
 *
 * @example
 * ```ts
 * if (canUseFastQuery(pool)) rows = await fastQuery(pool, true, statement, params);
 * ```
 */
export function canUseFastQuery(pool: pg.Pool): boolean {
  return (pool as { Client?: unknown }).Client === pg.Client;
}

/**
 * One execution of a statement, as pg would build it from `{ name, text, values }`: under
 * `name` (the statement's own by default), or unnamed with `""`.
 *
 * @example
 * ```ts
 * client.query(statementQuery({ name: "pgsession_find_…", text: "SELECT …" }, [hash]));
 * ```
 */
export function statementQuery(statement: Statement, params: readonly unknown[], name = statement.name): StatementQuery {
  const query = new pg.Query(statement.text) as StatementQuery;
  query.name = name;
  query.values = params as unknown[];
  return query;
}

/**
 * Runs a statement (under `name`, or unnamed with `""`) on a pool (`pooled`) or a
 * checked-out client through {@link statementQuery}; its rows.
 *
 * @example
 * ```ts
 * const rows = await fastQuery(pool, true, statement, [hash]);
 * ```
 */
export function fastQuery<R extends Row>(
  client: pg.Pool | pg.PoolClient,
  pooled: boolean,
  statement: Statement,
  params: readonly unknown[],
  name = statement.name,
): Promise<R[]> {
  const query = statementQuery(statement, params, name);
  // The pool sets the callback and answers with a promise; a checked-out client answers a
  // submittable with itself, so the callback is ours.
  if (pooled) return (client.query(query) as unknown as Promise<pg.QueryResult<R>>).then((result) => result.rows);
  return new Promise<R[]>((resolve, reject) => {
    query.callback = (err, result) => (err ? reject(err) : resolve((result as pg.QueryResult<R>).rows));
    client.query(query);
  });
}
