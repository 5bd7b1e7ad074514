/**
 * The read by the current token, as a statement and as a SQL function. Sent unnamed (behind
 * a transaction-mode pooler), a statement is parsed and planned at every execution, and the
 * read's plan is the costliest of the hot path to make; called through a PL/pgSQL function,
 * its plan is made once per server connection and kept, whichever client the pooler lends
 * that connection to. Both forms are built from one query text, so they cannot drift.
 * @module
 */
import type { TableName } from "../session/table.js";
import { packedRow } from "./row.js";
import { clockedStatement, type BuiltStatement } from "./sql/build.js";
import { isAudience, isLive, isTouchDue, qualifiedName, touchCall } from "./sql/fragments.js";
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

/**
 * `<table>_find(at, token_hash, audience)`: the packed row of the live session the token
 * hash names under that audience (touched when due), or null. Defined anew by every migrate,
 * with the SQL functions.
 *
 * @example
 * ```ts
 * await tx.exec(readFunctionScript({ schema: "pgsession", table: "sessions" }));
 * ```
 */
export function readFunctionScript(names: TableName): string {
  const query = findQuery(names, { now: "p_at", token: "p_token", audience: "p_audience" });
  return `-- The read by the current token, for drivers that send statements unnamed (src/store/read-function.ts).
CREATE OR REPLACE FUNCTION ${qualifiedName(names, "_find")}(p_at timestamptz, p_token bytea, p_audience text) RETURNS text
  LANGUAGE plpgsql VOLATILE
  AS $pgsession_find$
BEGIN
  RETURN (${query});
END
$pgsession_find$;
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
