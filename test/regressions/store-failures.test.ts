/**
 * Issue 36, points 5, 7 and 9: session transactions report every database failure as
 * SessionStoreError and re-check the session inside the transaction; a read-only database
 * still answers reads; a missing table says to migrate, once.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { createSessions, SessionGoneError, SessionStoreError } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { pgliteStore } from "../../src/store/pglite.js";
import { fakeClock, hasPostgres, pgTarget, postgresJsTarget, uniqueSchema } from "../support/db.js";
import { describeEachTarget, tokenOf } from "../support/suite.js";

describeEachTarget("session transactions", (ctx) => {
  it("refuse a session revoked after it was resolved: fn never runs under its user", async () => {
    const sessions = ctx().sessions();
    const session = await sessions.resolve(undefined);
    await session.login("erin");
    await sessions.commit(session);
    await sessions.revokeSession(session.id);
    let ran = false;
    await expect(
      sessions.transaction(session, async () => {
        ran = true;
      }),
    ).rejects.toBeInstanceOf(SessionGoneError);
    expect(ran).toBe(false);
  });

  it("run under the user the database holds, report a failing statement as SessionStoreError with its SQLSTATE, and pass fn's own errors through", async () => {
    const sessions = ctx().sessions();
    const session = await sessions.resolve(undefined);
    await session.login("frank");
    await sessions.commit(session);
    const schema = ctx().schema;
    const rows = await sessions.transaction(session, (sql) => sql.query(`SELECT "${schema}".user_id() AS u`));
    expect(rows).toEqual([{ u: "frank" }]);

    const failure = await sessions.transaction(session, (sql) => sql`SELECT 1 / ${0}::int AS x`).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(SessionStoreError);
    expect((failure as SessionStoreError).sqlState).toBe("22012");

    const own = new RangeError("the application's own");
    await expect(
      sessions.transaction(session, async () => {
        throw own;
      }),
    ).rejects.toBe(own);
  });
});

describe("session transactions on an unreachable database", () => {
  it("report the failed connection (before BEGIN) as SessionStoreError", async () => {
    const sessions = createSessions({ store: pgStore({ host: "127.0.0.1", port: 1, user: "postgres", connectionTimeoutMillis: 2000 }) });
    const session = await sessions.resolve(undefined);
    await expect(sessions.transaction(session, async () => 1)).rejects.toBeInstanceOf(SessionStoreError);
    await sessions.close();
  });
});

describe("a missing sessions table", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("is reported as what it is, with the command to run, and logged once", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const sessions = createSessions({ store: pgliteStore(), schema: uniqueSchema("nomig") });
    for (let i = 0; i < 3; i++) {
      const error = await sessions.resolve(`session=${"A".repeat(42)}w`).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(SessionStoreError);
      expect((error as Error).message).toMatch(/sessions\.migrate\(\)|pgsession migrate/);
    }
    expect(logged).toHaveBeenCalledTimes(1);
    expect(String(logged.mock.calls[0]?.[0])).toMatch(/run sessions\.migrate\(\) or `pgsession migrate`/);
    await sessions.close();
  });
});

for (const make of [pgTarget, postgresJsTarget]) {
  describe.skipIf(!hasPostgres)(`a read-only database [${make.name}]`, () => {
    it("still answers reads whose touch is due (the touch is skipped), and refuses writes as SessionStoreError", async () => {
      const target = make();
      const schema = uniqueSchema("readonly");
      const clock = fakeClock();
      try {
        const writable = createSessions({ store: await target.open(), schema, now: clock.now, idleTimeout: "1h" });
        await writable.migrate();
        const session = await writable.resolve(undefined);
        session.set("n", 1);
        const cookie = `session=${tokenOf(await writable.commit(session))}`;
        clock.advance(30 * 60_000); // past touchAfter (6 minutes): this read's touch is due

        const readOnly = createSessions({
          store: await target.open({ default_transaction_read_only: "on" }),
          schema,
          now: clock.now,
          idleTimeout: "1h",
        });
        const read = await readOnly.resolve(cookie);
        expect(read.id).toBe(session.id);
        expect(read.get("n")).toBe(1);
        read.set("n", 2);
        const failure = await readOnly.commit(read).catch((err: unknown) => err);
        expect(failure).toBeInstanceOf(SessionStoreError);
        expect((failure as SessionStoreError).sqlState).toBe("25006");
      } finally {
        await target.sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await target.end();
      }
    });
  });
}
