import { describe, expect, it } from "vitest";
import { buildStatements, onDatabaseClock } from "./statements.js";

const statements = buildStatements({ schema: "pgsession", table: "sessions" });
const paramsOf = (text: string) => [...new Set([...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);

describe("statements on the database's clock", () => {
  it("every statement that takes the clock has a form with now() and its other parameters renumbered from $1", () => {
    let forms = 0;
    for (const [label, stmt] of Object.entries(statements)) {
      const plain = onDatabaseClock(stmt);
      if (!stmt.text.includes("coalesce($1::timestamptz, now())")) {
        expect(plain, label).toBeNull();
        continue;
      }
      forms += 1;
      expect(plain, label).not.toBeNull();
      const clocked = paramsOf(stmt.text);
      expect(clocked[0], label).toBe(1);
      expect(paramsOf(plain!.text), label).toEqual(clocked.slice(1).map((n) => n - 1));
      expect(plain!.text).not.toContain("$1::timestamptz");
      expect(plain!.text.replace(/\$\d+/g, "$")).toBe(stmt.text.replaceAll("coalesce($1::timestamptz, now())", "now()").replace(/\$\d+/g, "$"));
      expect(plain!.name).not.toBe(stmt.name);
      expect(plain!.name.length).toBeLessThanOrEqual(63); // PostgreSQL's identifier length
    }
    expect(forms).toBeGreaterThanOrEqual(10);
  });

  it("a statement whose $1 is not the clock keeps its parameters", () => {
    expect(onDatabaseClock(statements.revokeById)).toBeNull();
    expect(onDatabaseClock({ name: "x_0123456789ab", text: "SELECT coalesce($1::timestamptz, now()), $1::text" })).toBeNull();
  });
});
