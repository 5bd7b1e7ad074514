/**
 * Driver failures as pgsession reports them.
 * @module
 */
import { SessionStoreError } from "../errors.js";

/** SQLSTATEs of a missing table, function or schema: the migrations have not run. */
const MISSING_SCHEMA = new Set(["42P01", "42883", "3F000"]);

/** SQLSTATEs of a named prepared statement the server connection has already (42P05) or lacks (26000). */
const PREPARED_STATEMENT = new Set(["42P05", "26000"]);

/** pgbouncer's own words (1.21 and later, with max_prepared_statements) when it drops a client over a statement name. */
const POOLER_PREPARED_STATEMENT = /prepared statement (?:name is already in use|did not exist)/;

/**
 * What to do about a failure, when pgsession knows: run the migrations, or stop preparing
 * statements behind a pooler in transaction mode, which hands each transaction whichever
 * server connection is free, where a statement prepared on another one does not exist.
 */
function hintFor(sqlState: string | undefined, reason: string): string {
  if (sqlState !== undefined && MISSING_SCHEMA.has(sqlState))
    return " (run sessions.migrate() or `pgsession migrate` to create or update the schema)";
  if ((sqlState !== undefined && PREPARED_STATEMENT.has(sqlState)) || POOLER_PREPARED_STATEMENT.test(reason))
    return (
      " (a connection pooler in transaction mode, such as pgbouncer or a pooled endpoint, does not keep prepared statements:" +
      " create the store with { preparedStatements: false }, as pgStore(pool, { preparedStatements: false }), or for postgres.js" +
      " create the instance with postgres(url, { prepare: false }); see Poolers in the README)"
    );
  return "";
}

/** Wraps any driver failure into a {@link SessionStoreError}, keeping the SQLSTATE. */
export function toStoreError(err: unknown, what: string): SessionStoreError {
  if (err instanceof SessionStoreError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const sqlState = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  const reason = err instanceof Error ? err.message : String(err);
  return new SessionStoreError(`pgsession: ${what} failed: ${reason}${hintFor(sqlState, reason)}`, { cause: err, sqlState });
}
