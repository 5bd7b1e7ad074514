import pg from "pg";
import { describe, expect, it } from "vitest";
import { statementQuery } from "./pg-fast-query.js";

/** Own enumerable fields of a query, functions and the result object aside (they differ per instance). */
function fieldsOf(query: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (typeof value === "function" || key === "_result") continue;
    out[key] = value;
  }
  return out;
}

describe("pg's Query built from a text, then named (the one pg internal pgsession relies on)", () => {
  it("has exactly the fields pg's constructor sets from a { name, text, values } config", () => {
    const statement = { name: "pgsession_guard_0123456789ab", text: "SELECT $1::text AS v" };
    const values = ["x"];
    const ours = fieldsOf(statementQuery(statement, values));
    const pgs = fieldsOf(new pg.Query({ name: statement.name, text: statement.text, values }));
    // If this fails, pg changed what its Query constructor reads or sets: update
    // src/store/pg-fast-query.ts, or drop the fast path (pg.ts falls back to a config object).
    expect(Object.keys(ours).sort()).toEqual(Object.keys(pgs).sort());
    expect(ours).toEqual(pgs);
  });

  it('unnamed (preparedStatements: false), has exactly the fields pg sets from a { name: "", text, values } config', () => {
    const statement = { name: "pgsession_guard_0123456789ab", text: "SELECT $1::text AS v" };
    const values = ["x"];
    const ours = statementQuery(statement, values, "");
    const pgs = new pg.Query({ name: "", text: statement.text, values });
    expect(fieldsOf(ours)).toEqual(fieldsOf(pgs));
    // Unnamed and with parameters: pg parses it for this execution only (extended protocol, no name).
    expect((ours as unknown as { requiresPreparation(): boolean }).requiresPreparation()).toBe(true);
    expect(ours.name).toBe("");
  });
});
