/**
 * The install script: the migrations and the SQL functions of one sessions table as one
 * SQL script for psql or any other client, for databases installed without Node. It keeps
 * the migration history and takes the advisory lock of `migrate()`, and applies each
 * migration only when that history lacks it, so that running it again changes nothing and
 * `migrate()` afterwards (or before) finds the table up to date.
 * @module
 */
import { readFileSync } from "node:fs";
import { SessionConfigError } from "../errors.js";
import { quoteLiteral, validateIdentifier } from "../lib/identifier.js";
import type { TableName } from "../session/table.js";
import { loadMigrations, migrationHistory, renderCacheTriggers, renderMigration, type Migration } from "./schema.js";
import { functionsScript } from "./plan-cached.js";

/**
 * Options of {@link installScript}.
 *
 * @example
 * ```ts
 * const options: InstallScriptOptions = { schema: "auth", table: "sessions", only: 2 };
 * ```
 */
export interface InstallScriptOptions {
  /** Schema of the sessions table. Default `"pgsession"`. */
  schema?: string;
  /** Name of the sessions table. Default `"sessions"`. */
  table?: string;
  /** Create the table UNLOGGED (when the script creates it). Default `false`. */
  unlogged?: boolean;
  /**
   * Only migration number `only` (for migration tools that keep a file per step), or only
   * the SQL functions (`"functions"`: run them after the migrations of every upgrade).
   * Default: everything, in order.
   */
  only?: number | "functions";
  /**
   * Also the read cache's triggers (`sql/cache.sql`), after the functions: for tables of
   * applications that turn the cache on. Not with a single migration. Default `false`.
   */
  cache?: boolean;
}

// Dollar-quote tags of the script; a migration containing one would end its quoting early.
const BLOCK = "$pgsession$";
const MIGRATION = "$pgsession_migration$";

let version: string | undefined;

/** This package's version, for the script's header. */
function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  return version;
}

/** One migration pgsession ships. */
export interface ShippedMigration {
  /** Its number, from 1, in the order migrations apply. */
  version: number;
  /** Its file name without `.sql`, e.g. `001_init`. */
  name: string;
}

/**
 * Every migration shipped with this version of pgsession, in order.
 *
 * @example
 * ```ts
 * shippedMigrations(); // [{ version: 1, name: "001_init" }, { version: 2, name: "002_updated_at" }, ...]
 * ```
 */
export function shippedMigrations(): ShippedMigration[] {
  return loadMigrations().map(({ version, name }) => ({ version, name }));
}

/**
 * A rendered SQL file without its leading comment: that comment documents the file (its
 * placeholders, which read garbled once filled in), and the script says what each part is.
 */
function withoutFileComment(sql: string): string {
  const lines = sql.split("\n");
  let first = 0;
  while (first < lines.length && (lines[first] as string).startsWith("--")) first++;
  return lines.slice(first).join("\n").trim();
}

/** One migration, applied unless the history records it (and refused before its predecessor), then recorded. */
function guardedMigration(migration: Migration, previous: Migration | undefined, names: TableName, unlogged: boolean): string {
  const history = migrationHistory(names).table;
  const sql = withoutFileComment(renderMigration(migration.sql, names, { unlogged }));
  if (sql.includes(BLOCK) || sql.includes(MIGRATION))
    throw new Error(`pgsession: migration ${migration.name} contains a reserved dollar quote`);
  const needsPrevious = previous
    ? `
    IF NOT EXISTS (SELECT FROM ${history} WHERE version = ${previous.version}) THEN
      RAISE EXCEPTION 'pgsession: migration ${migration.name} needs migration ${previous.name} first' USING ERRCODE = '55000';
    END IF;`
    : "";
  return `-- Migration ${migration.version} (${migration.name}), unless ${history} records it.
DO ${BLOCK}
BEGIN
  IF NOT EXISTS (SELECT FROM ${history} WHERE version = ${migration.version}) THEN${needsPrevious}
    EXECUTE ${MIGRATION}
${sql}
${MIGRATION};
    INSERT INTO ${history} (version, name) VALUES (${migration.version}, ${quoteLiteral(migration.name)});
  END IF;
END
${BLOCK};`;
}

/**
 * The SQL script that installs or updates one sessions table, for `psql -v ON_ERROR_STOP=1`
 * or any SQL client: in one transaction, under the advisory lock of `sessions.migrate()`,
 * it creates the schema and the migration history when missing, applies each migration
 * that history lacks (recording it), then defines the SQL functions anew. Running it again
 * changes nothing; `sessions.migrate()` and `pgsession migrate` find what it applied.
 * `pgsession sql` prints it. Throws `SessionConfigError` for a bad name or an unknown migration.
 *
 * @example
 * ```ts
 * import { writeFileSync } from "node:fs";
 * writeFileSync("pgsession.sql", installScript({ schema: "auth" })); // psql -v ON_ERROR_STOP=1 -f pgsession.sql
 * ```
 */
export function installScript(options: InstallScriptOptions = {}): string {
  const names: TableName = {
    schema: validateIdentifier(options.schema ?? "pgsession", "schema"),
    table: validateIdentifier(options.table ?? "sessions", "table"),
  };
  const unlogged = options.unlogged ?? false;
  if (typeof unlogged !== "boolean") throw new SessionConfigError("unlogged", "must be true or false");
  const migrations = loadMigrations();
  const only = options.only;
  if (only !== undefined && only !== "functions" && !migrations.some((m) => m.version === only)) {
    const known = migrations.map((m) => m.version).join(", ");
    throw new SessionConfigError("only", `must be "functions" or the number of a migration shipped with this version (${known})`);
  }
  const cache = options.cache ?? false;
  if (typeof cache !== "boolean") throw new SessionConfigError("cache", "must be true or false");
  if (cache && typeof only === "number") throw new SessionConfigError("cache", "goes with the whole script or the functions");
  const history = migrationHistory(names);
  const target = `${names.schema}.${names.table}`;
  const what =
    only === undefined
      ? `installs or updates ${target} (migrations up to ${migrations.at(-1)?.version ?? 0}, then the SQL functions)`
      : only === "functions"
        ? `the SQL functions of ${target}: run them after the migrations, on every upgrade`
        : `migration ${only} of ${target}, for a migration tool that runs one file per step`;
  const parts: string[] = [];
  parts.push(
    `-- pgsession ${packageVersion()}: ${what}.
-- Safe to run again: what the migration history records is skipped. Run it with psql -v ON_ERROR_STOP=1
-- (without --single-transaction: the script is one transaction of its own).
BEGIN;
SET LOCAL client_min_messages = warning; -- not a notice for each object that already exists
-- The lock sessions.migrate() and pgsession migrate hold: they and this script take turns.
DO ${BLOCK} BEGIN PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext(${quoteLiteral(history.lockKey)})); END ${BLOCK};
${history.create}`,
  );
  if (only !== "functions") {
    migrations.forEach((migration, i) => {
      if (only === undefined || only === migration.version) parts.push(guardedMigration(migration, migrations[i - 1], names, unlogged));
    });
  }
  if (only === undefined || only === "functions") {
    parts.push(
      `-- The SQL functions (sql/functions.sql), defined anew as every migrate does.\n${withoutFileComment(functionsScript(names))}`,
    );
  }
  if (cache) {
    parts.push(
      `-- The read cache's triggers (sql/cache.sql), as migrate() with the cache option makes them.\n${withoutFileComment(renderCacheTriggers(names))}`,
    );
  }
  parts.push("COMMIT;\n");
  return parts.join("\n\n");
}
