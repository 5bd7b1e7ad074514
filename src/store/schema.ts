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

let cacheTriggers: string | undefined;

/**
 * The read cache's triggers for one table (`sql/cache.sql`), ready to run after the
 * functions: installed only for tables whose applications turn the cache on, and safe to
 * run again.
 *
 * @example
 * ```ts
 * await tx.exec(renderCacheTriggers({ schema: "pgsession", table: "sessions" }));
 * ```
 */
export function renderCacheTriggers(names: TableName): string {
  cacheTriggers ??= readFileSync(`${SQL_DIR}cache.sql`, "utf8");
  return renderMigration(cacheTriggers, names, { unlogged: false });
}

/** The read cache's triggers of a table, by name, as `sql/cache.sql` creates them. */
export function cacheTriggerNames(names: TableName): string[] {
  return ["_cache_v1_update", "_cache_v1_delete", "_cache_v1_truncate"].map((suffix) => names.table + suffix);
}

// PostgreSQL's longest identifier, and so channel name (NAMEDATALEN - 1).
const MAX_CHANNEL = 63;

/**
 * The channel the caching instances relay one table's changes to: `pgsession.<schema>.<table>`,
 * or, when that is longer than a channel name may be, `pgsession.` and a hash of it.
 *
 * @example
 * ```ts
 * changeChannel({ schema: "pgsession", table: "sessions" }); // "pgsession.pgsession.sessions"
 * ```
 */
export function changeChannel(names: TableName): string {
  const plain = `pgsession.${names.schema}.${names.table}`;
  if (plain.length <= MAX_CHANNEL) return plain;
  return `pgsession.${createHash("sha256").update(`${names.schema}.${names.table}`).digest("hex").slice(0, 40)}`;
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

/** Fills a migration's placeholders with quoted names (and the cache's channel name as a literal). */
export function renderMigration(sql: string, names: TableName, options: { unlogged: boolean }): string {
  return sql.replace(/\{\{(\w+)(?::(\w+))?\}\}/g, (match, key: string, suffix: string | undefined) => {
    switch (key) {
      case "schema":
        return quoteIdent(names.schema);
      case "schema_literal":
        return quoteLiteral(names.schema);
      case "table":
        return quoteIdent(names.table + (suffix ?? ""));
      case "table_literal":
        return quoteLiteral(names.table + (suffix ?? ""));
      case "channel_literal":
        return quoteLiteral(changeChannel(names));
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
