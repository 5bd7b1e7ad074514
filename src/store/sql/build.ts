/**
 * Numbering of a statement's parameters, assigned when the statement is built: the text
 * refers to parameters by name, so one definition yields the form on the database's clock
 * (`now()`, parameters from `$1`) and the form on an injected clock (`$1`, the others
 * from `$2`) without rewriting SQL text.
 * @module
 */
import type { Statement } from "../../driver.js";
import { statement } from "../schema.js";
import { clockOf, type Clock } from "./fragments.js";

/** A statement's parameters after the clock, in the order the caller passes them, with their SQL types. */
export type ParamTypes = Readonly<Record<string, string>>;

/** Each parameter's placeholder with its cast (`$2::bytea`), by name. */
export type Placeholders<P extends ParamTypes> = { readonly [K in keyof P]: string };

/** A built statement, with what the caller must pass. */
export interface BuiltStatement extends Statement {
  /** Whether the caller passes the clock first (the injected form of a statement that reads it). */
  readonly takesClock: boolean;
  /** The parameters after the clock, in order. */
  readonly params: readonly string[];
}

function placeholders<P extends ParamTypes>(types: P, first: number): Placeholders<P> {
  const named: Record<string, string> = {};
  let n = first;
  for (const [name, type] of Object.entries(types)) named[name] = `$${n++}::${type}`;
  return named as Placeholders<P>;
}

/**
 * A statement that reads the clock, in the form for `clock`: `text` receives the clock
 * (`now`) and each parameter's placeholder, numbered after the clock when it is injected.
 * The form on the database's clock is named `<label>_now`, so either form reads plainly in
 * `pg_prepared_statements`.
 *
 * @example
 * ```ts
 * const find = clockedStatement("database", "find", { token: "bytea" },
 *   (p) => `SELECT … WHERE s.token_hash = ${p.token} AND s.idle_expires_at > ${p.now}`);
 * find.text; // "SELECT … WHERE s.token_hash = $1::bytea AND s.idle_expires_at > now()"
 * ```
 */
export function clockedStatement<P extends ParamTypes>(
  clock: Clock,
  label: string,
  types: P,
  text: (p: Placeholders<P> & { readonly now: string }) => string,
): BuiltStatement {
  const p = { ...placeholders(types, clock === "injected" ? 2 : 1), now: clockOf(clock) };
  const name = clock === "database" ? `${label}_now` : label;
  return { ...statement(name, text(p)), takesClock: clock === "injected", params: Object.keys(types) };
}

/**
 * A statement that does not read the clock: the same in both forms.
 *
 * @example
 * ```ts
 * const revoke = plainStatement("revoke_by_id", { id: "text" }, (p) => `DELETE FROM t s WHERE s.id = ${p.id}`);
 * revoke.text; // "DELETE FROM t s WHERE s.id = $1::text"
 * ```
 */
export function plainStatement<P extends ParamTypes>(label: string, types: P, text: (p: Placeholders<P>) => string): BuiltStatement {
  return { ...statement(label, text(placeholders(types, 1))), takesClock: false, params: Object.keys(types) };
}
