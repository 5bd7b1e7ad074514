/**
 * The hot path's two statements, the read by the current token and the merge of changed
 * keys, also as SQL functions. Sent unnamed (behind a transaction-mode pooler), a statement
 * is parsed and planned at every execution, and these two plans are the costliest of the
 * hot path to make; called through a PL/pgSQL function, each plan is made once per server
 * connection and kept, whichever client the pooler lends that connection to. Both forms of
 * each are built from one query text, so they cannot drift.
 * @module
 */
import type { TableName } from "../session/table.js";
import { packedRow } from "./row.js";
import { clockedStatement, type BuiltStatement } from "./sql/build.js";
import { fitsIn, isAudience, isLive, isTouchDue, qualifiedName, touchCall } from "./sql/fragments.js";
import { renderFunctions } from "./schema.js";

/** Where the read's query puts its clock, token hash and audience (placeholders or variables). */
interface FindInputs {
  readonly now: string;
  readonly token: string;
  readonly audience: string;
}

/**
 * The read by the current token and the idle-timeout extension when one is due, in one
 * query; `extra` adds columns beside the packed row.
 *
 * @example
 * ```ts
 * findQuery(names, { now: "now()", token: "$1::bytea", audience: "$2::text" });
 * ```
 */
export function findQuery(names: TableName, p: FindInputs, extra = ""): string {
  return `SELECT ${packedRow({ current: "true", touch: `CASE WHEN ${isTouchDue(p.now)} THEN ${touchCall(names, p.now)} END` })}${extra}
         FROM ${qualifiedName(names)} s WHERE s.token_hash = ${p.token} AND ${isLive(p.now)} AND ${isAudience(p.audience)}`;
}

/** Where the merge puts its clock, token hash, changed keys (a JSON object as text) and size limit. */
interface MergeInputs {
  readonly now: string;
  readonly token: string;
  readonly set: string;
  readonly limit: string;
}

/**
 * The save of the usual write, which only sets keys: merged into the live row the current
 * token names, in one UPDATE, unless the merged data would pass the size limit; answers the
 * new version.
 *
 * @example
 * ```ts
 * mergeQuery(names, { now: "now()", token: "$1::bytea", set: "$2::text", limit: "$3::integer" });
 * ```
 */
export function mergeQuery(names: TableName, p: MergeInputs): string {
  return `UPDATE ${qualifiedName(names)} s SET data = s.data || ${p.set}::jsonb, version = s.version + 1, updated_at = ${p.now}
        WHERE s.token_hash = ${p.token} AND ${isLive(p.now)} AND ${fitsIn(`s.data || ${p.set}::jsonb`, p.limit)}
       RETURNING s.version`;
}

/**
 * `<table>_find(at, token_hash, audience)`: the packed row of the live session the token
 * hash names under that audience (touched when due), or null; `<table>_merge(at,
 * token_hash, set, limit)`: the new version, or null when no live row took the keys.
 * Defined anew by every migrate, with the SQL functions.
 *
 * @example
 * ```ts
 * await tx.exec(readFunctionScript({ schema: "pgsession", table: "sessions" }));
 * ```
 */
export function readFunctionScript(names: TableName): string {
  const query = findQuery(names, { now: "p_at", token: "p_token", audience: "p_audience" });
  const merge = mergeQuery(names, { now: "p_at", token: "p_token", set: "p_set", limit: "p_limit" });
  return `-- The read by the current token and the merge of changed keys, for drivers that send
-- statements unnamed (src/store/plan-cached.ts).
CREATE OR REPLACE FUNCTION ${qualifiedName(names, "_find")}(p_at timestamptz, p_token bytea, p_audience text) RETURNS text
  LANGUAGE plpgsql VOLATILE
  AS $pgsession_find$
BEGIN
  RETURN (${query});
END
$pgsession_find$;
CREATE OR REPLACE FUNCTION ${qualifiedName(names, "_merge")}(p_at timestamptz, p_token bytea, p_set text, p_limit integer) RETURNS integer
  LANGUAGE plpgsql VOLATILE
  AS $pgsession_merge$
DECLARE
  v integer;
BEGIN
  ${merge} INTO v;
  RETURN v;
END
$pgsession_merge$;
`;
}

/**
 * The read through `<table>_find`: one row whose `r` is the packed row, or null when no live
 * session matches.
 *
 * @example
 * ```ts
 * const find = findByFunction(names, "database"); // SELECT "pgsession"."sessions_find"(now(), $1::bytea, $2::text) AS r
 * ```
 */
export function findByFunction(names: TableName, clock: "database" | "injected"): BuiltStatement {
  return clockedStatement(
    clock,
    "find_fn",
    { token: "bytea", audience: "text" },
    (p) => `SELECT ${qualifiedName(names, "_find")}(${p.now}, ${p.token}, ${p.audience}) AS r`,
  );
}

/**
 * Every SQL function of a table, as each migrate defines them anew: those of
 * `sql/functions.sql`, then the read function built here.
 *
 * @example
 * ```ts
 * await tx.exec(functionsScript({ schema: "pgsession", table: "sessions" }));
 * ```
 */
export function functionsScript(names: TableName): string {
  return `${renderFunctions(names)}\n${readFunctionScript(names)}`;
}

/**
 * The merge through `<table>_merge`: one row whose `version` is null when no live row took the keys.
 *
 * @example
 * ```ts
 * const merge = mergeByFunction(names, "database"); // SELECT "pgsession"."sessions_merge"(now(), $1::bytea, $2::text, $3::integer) AS version
 * ```
 */
export function mergeByFunction(names: TableName, clock: "database" | "injected"): BuiltStatement {
  return clockedStatement(
    clock,
    "merge_fn",
    { token: "bytea", set: "text", limit: "integer" },
    (p) => `SELECT ${qualifiedName(names, "_merge")}(${p.now}, ${p.token}, ${p.set}, ${p.limit}) AS version`,
  );
}
