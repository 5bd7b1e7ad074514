/**
 * Schema and table names, quoting, the versioned migrations shipped in `sql/`, and the
 * SQL functions (`sql/functions.sql`) that every migrate defines anew.
 * @module
 */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { quoteIdent, quoteLiteral } from "../lib/identifier.js";
import type { TableName } from "../session/table.js";

/** A migration file from `sql/`. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const SQL_DIR = fileURLToPath(new URL("../../sql/", import.meta.url));
let cached: Migration[] | undefined;

/** Every migration shipped with the package, in order. */
export function loadMigrations(): Migration[] {
  cached ??= readdirSync(SQL_DIR)
    .filter((file) => /^\d{3}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 3)),
      name: file.replace(/\.sql$/, ""),
      sql: readFileSync(SQL_DIR + file, "utf8"),
    }));
  return cached;
}

let functions: string | undefined;

/**
 * The SQL functions of `sql/functions.sql` for one table, ready to run: each function is
 * written once there, as `CREATE OR REPLACE`, and every migrate runs them after the
 * migrations, so a schema always has the definitions of the installed package.
 *
 * @example
 * ```ts
 * await tx.exec(renderFunctions({ schema: "pgsession", table: "sessions" }));
 * ```
 */
export function renderFunctions(names: TableName): string {
  functions ??= readFileSync(`${SQL_DIR}functions.sql`, "utf8");
  return renderMigration(functions, names, { unlogged: false });
}

/** Where the migrations of one table are recorded, and how migrations of its schema are serialized. */
export interface MigrationHistory {
  /** The history table, qualified and quoted (`"pgsession"."sessions_migrations"`): a row per migration applied. */
  readonly table: string;
  /** Creates the schema and the history table when they are missing. */
  readonly create: string;
  /** The key of the advisory lock (`pg_advisory_xact_lock(hashtext(key))`) every migration of the schema holds. */
  readonly lockKey: string;
}

/**
 * The migration history of one table, shared by `migrate()` and the install script, so
 * that either finds what the other applied.
 *
 * @example
 * ```ts
 * const history = migrationHistory({ schema: "pgsession", table: "sessions" });
 * await tx.query(WAIT_FOR_LOCK, [history.lockKey]);
 * await tx.exec(history.create);
 * ```
 */
export function migrationHistory(names: TableName): MigrationHistory {
  const schema = quoteIdent(names.schema);
  const table = `${schema}.${quoteIdent(`${names.table}_migrations`)}`;
  return {
    table,
    create: `CREATE SCHEMA IF NOT EXISTS ${schema};
CREATE TABLE IF NOT EXISTS ${table} (
  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());`,
    // Per schema: the tables of one schema share its functions, which every migrate re-applies.
    lockKey: `pgsession:migrate:${names.schema}`,
  };
}

/** Fills a migration's placeholders with quoted names. */
export function renderMigration(sql: string, names: TableName, options: { unlogged: boolean }): string {
  return sql.replace(/\{\{(\w+)(?::(\w+))?\}\}/g, (match, key: string, suffix: string | undefined) => {
    switch (key) {
      case "schema":
        return quoteIdent(names.schema);
      case "schema_literal":
        return quoteLiteral(names.schema);
      case "table":
        return quoteIdent(names.table + (suffix ?? ""));
      case "unlogged":
        return options.unlogged ? "UNLOGGED" : "";
      default:
        throw new Error(`pgsession: unknown placeholder ${match} in a migration`);
    }
  });
}

/** A statement named after its text, so different schemas never share a prepared name. */
export function statement(label: string, text: string): { name: string; text: string } {
  const digest = createHash("sha1").update(text).digest("hex").slice(0, 12);
  return { name: `pgsession_${label}_${digest}`, text };
}
