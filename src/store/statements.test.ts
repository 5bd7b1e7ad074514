import { describe, expect, it } from "vitest";
import { buildAdminStatements } from "./admin.js";
import { buildTrimStatement, SET_SESSION } from "./session-sql.js";
import type { BuiltStatement } from "./sql/build.js";
import type { Clock } from "./sql/fragments.js";
import { buildStatements, TABLE_EXISTS, TRY_LOCK, WAIT_FOR_LOCK } from "./statements.js";

const names = { schema: "pgsession", table: "sessions" };
const CLOCKS: Clock[] = ["database", "injected"];

/** Every statement pgsession runs on one clock, by label. */
function everyStatement(clock: Clock): Array<[string, BuiltStatement]> {
  return [
    ...Object.entries(buildStatements(names, clock)),
    ...Object.entries(buildAdminStatements(names, clock)).map(([label, stmt]): [string, BuiltStatement] => [`admin.${label}`, stmt]),
    ["trim", buildTrimStatement(names, clock)],
    ["setSession", SET_SESSION],
    ["waitForLock", WAIT_FOR_LOCK],
    ["tryLock", TRY_LOCK],
    ["tableExists", TABLE_EXISTS],
  ];
}

/** Each placeholder number, with every cast it is written with. */
function placeholdersOf(text: string): Map<number, Set<string>> {
  const found = new Map<number, Set<string>>();
  for (const [, n, type] of text.matchAll(/\$(\d+)(?:::(\w+))?/g)) {
    const casts = found.get(Number(n)) ?? new Set<string>();
    casts.add(type ?? "");
    found.set(Number(n), casts);
  }
  return found;
}

describe("statements, built for a clock", () => {
  for (const clock of CLOCKS) {
    it(`${clock} clock: the placeholders are $1..$n, the clock (if passed) and then each declared parameter, one cast each`, () => {
      for (const [label, stmt] of everyStatement(clock)) {
        const expected = stmt.takesClock ? ["timestamptz"] : [];
        const found = placeholdersOf(stmt.text);
        expect(
          [...found.keys()].sort((a, b) => a - b),
          label,
        ).toEqual(Array.from({ length: stmt.params.length + expected.length }, (_, i) => i + 1));
        for (const [n, casts] of found) expect(casts.size, `${label} $${n}`).toBe(1);
        if (stmt.takesClock) expect([...found.get(1)!][0], label).toBe("timestamptz");
      }
    });
  }

  it("on the database's clock no statement takes the clock as a parameter: it reads now()", () => {
    for (const [label, stmt] of everyStatement("database")) expect(stmt.takesClock, label).toBe(false);
    const database = new Map(everyStatement("database"));
    let clocked = 0;
    for (const [label, injected] of everyStatement("injected")) {
      const plain = database.get(label)!;
      expect(plain.params, label).toEqual(injected.params);
      if (!injected.takesClock) {
        expect(plain, label).toEqual(injected);
        expect(injected.text, label).not.toContain("now()");
        continue;
      }
      clocked += 1;
      expect(injected.text, label).not.toContain("now()");
      expect(plain.text, label).toContain("now()");
      expect(placeholdersOf(plain.text).size, label).toBe(injected.params.length);
      // The same statement but for the clock and the numbering.
      const shape = (text: string) => text.replace(/\$\d+/g, "$");
      expect(shape(plain.text), label).toBe(shape(injected.text.replaceAll("$1::timestamptz", "now()")));
      expect(plain.name, label).not.toBe(injected.name);
    }
    expect(clocked).toBeGreaterThanOrEqual(18);
  });

  it("every statement has a name of its own, within PostgreSQL's identifier length", () => {
    const all = [...everyStatement("database"), ...everyStatement("injected")];
    const textOf = new Map<string, string>();
    for (const [label, stmt] of all) {
      expect(stmt.name.length, label).toBeLessThanOrEqual(63);
      expect(textOf.get(stmt.name) ?? stmt.text, label).toBe(stmt.text); // a name shared is the same statement
      textOf.set(stmt.name, stmt.text);
    }
    expect(new Set(textOf.values()).size).toBe(textOf.size);
    const other = buildStatements({ schema: "other", table: "sessions" }, "database");
    expect(other.find.name).not.toBe(buildStatements(names, "database").find.name);
  });

  it("every statement that reaches a session by its token alone is confined to one audience, exactly", () => {
    for (const clock of CLOCKS) {
      const sql = buildStatements(names, clock);
      for (const label of ["find", "findPrevious", "peek", "replace", "remove", "tombstone"] as const) {
        expect(sql[label].params, label).toContain("audience");
        expect(sql[label].text, label).toMatch(/s\.audience IS NOT DISTINCT FROM \$\d+::text/);
      }
    }
  });

  it("the hot path tests liveness with one comparison, and so do the admin counts and the trim", () => {
    const sql = buildStatements(names, "database");
    expect(sql.find.text).toContain("s.idle_expires_at > now()");
    expect(sql.find.text).not.toContain("absolute_expires_at >");
    expect(buildAdminStatements(names, "database").counts.text).not.toContain("absolute_expires_at");
    expect(buildTrimStatement(names, "database").text).not.toContain("absolute_expires_at");
    expect(sql.pruneBatch.text).toContain("NOT (s.idle_expires_at > now())");
  });
});
