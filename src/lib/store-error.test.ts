import { describe, expect, it } from "vitest";
import { SessionStoreError } from "../errors.js";
import { toStoreError } from "./store-error.js";

/** An error shaped as pg and postgres.js report a server's: a message and the SQLSTATE in `code`. */
function serverError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("toStoreError", () => {
  it("keeps the SQLSTATE and the cause, and says what failed", () => {
    const cause = serverError("57014", "canceling statement due to statement timeout");
    const error = toStoreError(cause, "reading the session");
    expect(error).toBeInstanceOf(SessionStoreError);
    expect(error.sqlState).toBe("57014");
    expect(error.cause).toBe(cause);
    expect(error.message).toBe("pgsession: reading the session failed: canceling statement due to statement timeout");
  });

  it("a missing table or function says to migrate", () => {
    expect(toStoreError(serverError("42P01", 'relation "pgsession.sessions" does not exist'), "reading the session").message).toMatch(
      /run sessions\.migrate\(\) or `pgsession migrate`/,
    );
  });

  it.each([
    ["42P05", 'prepared statement "pgsession_find_now_0123456789ab" already exists'],
    ["26000", 'prepared statement "pgsession_find_now_0123456789ab" does not exist'],
    // pgbouncer 1.21+ itself, when it tracks prepared statements and drops a client over a name.
    ["08P01", "prepared statement did not exist"],
    ["08P01", "prepared statement name is already in use"],
  ])("a pooler's prepared-statement error (%s: %s) names the option that fixes it", (code, message) => {
    const error = toStoreError(serverError(code, message), "reading the session");
    expect(error.message).toContain(message);
    expect(error.message).toMatch(/transaction mode/);
    expect(error.message).toMatch(/\{ preparedStatements: false \}/);
    expect(error.message).toMatch(/prepare: false/);
    expect(error.sqlState).toBe(code);
  });

  it("other errors get no hint", () => {
    expect(toStoreError(serverError("23505", "duplicate key value"), "creating the session").message).toBe(
      "pgsession: creating the session failed: duplicate key value",
    );
    expect(toStoreError("plain", "x").message).toBe("pgsession: x failed: plain");
  });
});
