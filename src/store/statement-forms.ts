/**
 * The statements of one sessions table in both clock forms, built once per process and
 * shared by the table and every transaction's rows.
 * @module
 */
import type { Statement } from "../driver.js";
import type { TableName } from "../session/table.js";
import { buildStatements, type Statements } from "./statements.js";

/** A table's statements, and for each that takes the clock its form on the database's clock. */
export interface BuiltStatements {
  sql: Statements;
  onDatabaseClock: ReadonlyMap<Statement, Statement>;
}

const built = new Map<string, BuiltStatements>();

/**
 * The statements of one table, built once per process (a transaction's rows reuse them).
 * `unnamed`: the driver sends statements unnamed, so each is parsed and planned at every
 * execution; the read and the merge then call the table's functions (`findByFunction`,
 * `mergeByFunction`), whose plans PL/pgSQL caches per server connection, whichever client
 * the pooler lends it to.
 */
export function statementsFor(names: TableName, unnamed = false): BuiltStatements {
  const key = `${names.schema}.${names.table}${unnamed ? " unnamed" : ""}`;
  let entry = built.get(key);
  if (!entry) {
    // Each statement that takes the clock is also built on the database's clock alone: what
    // runs when no clock is injected (every application; tests inject one).
    const sql = withRead(buildStatements(names, "injected"), unnamed);
    const database = withRead(buildStatements(names, "database"), unnamed);
    const plainForms = new Map<Statement, Statement>();
    for (const name of Object.keys(sql) as Array<keyof Statements>) if (sql[name].takesClock) plainForms.set(sql[name], database[name]);
    entry = { sql, onDatabaseClock: plainForms };
    built.set(key, entry);
  }
  return entry;
}

function withRead(sql: Statements, unnamed: boolean): Statements {
  return unnamed ? { ...sql, find: sql.findByFunction, saveMerge: sql.mergeByFunction } : sql;
}
