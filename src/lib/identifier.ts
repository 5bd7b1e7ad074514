/**
 * SQL identifiers: validation of the schema and table names a user configures, and quoting.
 * @module
 */
import { SessionConfigError } from "../errors.js";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;

/**
 * Validates a schema or table name; throws {@link SessionConfigError} naming `option`.
 * Only letters, digits and underscores are accepted, so nothing a name carries can reach
 * SQL as code.
 *
 * @example
 * ```ts
 * validateIdentifier('x"; drop table y; --', "table"); // throws SessionConfigError
 * ```
 */
export function validateIdentifier(name: unknown, option: string): string {
  if (typeof name !== "string" || !IDENTIFIER.test(name)) {
    throw new SessionConfigError(
      option,
      `${JSON.stringify(name)} is not allowed: use 1 to 40 letters, digits or underscores, not starting with a digit`,
    );
  }
  return name;
}

/**
 * Quotes a validated identifier for SQL.
 *
 * @example
 * ```ts
 * quoteIdent("sessions"); // "\"sessions\""
 * ```
 */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Quotes a validated name as an SQL string literal (`'pgsession'`), for the places SQL
 * needs the name as a value: a function comparing a setting with its own schema's name.
 *
 * @example
 * ```ts
 * quoteLiteral("pgsession"); // "'pgsession'"
 * ```
 */
export function quoteLiteral(name: string): string {
  return `'${name.replaceAll("'", "''")}'`;
}
