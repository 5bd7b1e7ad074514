/**
 * What the store contract suites share: a driver that records the statements it runs, and
 * the token of a Set-Cookie value.
 */
import { expect } from "vitest";
import type { StoreDriver } from "../../src/driver.js";

/** Wraps a real driver and records the statements it runs (PostgreSQL still runs them). */
export function counting(driver: StoreDriver) {
  const names: string[] = [];
  const wrapped: StoreDriver = {
    ...driver,
    kind: driver.kind,
    query: (statement, params) => {
      // The read and the merge through the table's functions (drivers sending statements unnamed) count as the statements they wrap.
      names.push(
        statement.name
          .replace(/^pgsession_|_[0-9a-f]{12}$/g, "")
          .replace(/^find_fn/, driver.unnamedStatements ? "find" : "find_fn")
          .replace(/^merge_fn/, driver.unnamedStatements ? "save_merge" : "merge_fn"),
      );
      return driver.query(statement, params);
    },
    exec: (script) => driver.exec(script),
    transaction: (fn) => driver.transaction(fn),
    close: () => driver.close(),
  };
  return { driver: wrapped, names, reset: () => (names.length = 0) };
}

/** The token in a Set-Cookie value. */
export function tokenOf(setCookie: string | null): string {
  expect(setCookie).toBeTruthy();
  return /^[^=]+=([^;]*)/.exec(setCookie as string)?.[1] as string;
}
