/**
 * Issue 36: a logout racing a login of the same session never reports success while the
 * session lives on (point 2); parallel reads whose touch is due touch once (point 3); an
 * express-session store started while the database is down recovers (point 8).
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { PgSessionStore } from "../../src/adapters/express-session.js";
import { startBlackHole } from "../faults/blackhole.js";
import { DATABASE_URL, fakeClock, hasPostgres, uniqueSchema } from "../support/db.js";
import { describeEachTarget, tokenOf } from "../support/suite.js";

describeEachTarget("races", (ctx) => {
  it("a logout made with the token a login just replaced ends the session, the login's successor included", async () => {
    const sessions = ctx().sessions();
    const first = await sessions.resolve(undefined);
    first.set("cart", ["book"]);
    const oldCookie = `session=${tokenOf(await sessions.commit(first))}`;

    const loggingOut = await sessions.resolve(oldCookie); // a request in flight with the old token
    const loggingIn = await sessions.resolve(oldCookie);
    await loggingIn.login("gina");
    const newCookie = `session=${tokenOf(await sessions.commit(loggingIn))}`;

    await loggingOut.logout();
    await sessions.commit(loggingOut);
    const after = await sessions.resolve(newCookie);
    expect(after.isNew).toBe(true);
    expect(after.userId).toBeNull();
    expect(await sessions.listUserSessions("gina", { audience: null })).toEqual([]);
  });

  it("a login that loses the race to a logout fails instead of reporting success", async () => {
    const sessions = ctx().sessions();
    const first = await sessions.resolve(undefined);
    first.set("n", 1);
    const cookie = `session=${tokenOf(await sessions.commit(first))}`;
    const loggingIn = await sessions.resolve(cookie);
    const loggingOut = await sessions.resolve(cookie);
    await loggingOut.logout();
    await expect(loggingIn.login("hank")).rejects.toMatchObject({ code: expect.stringMatching(/ERR_SESSION_(GONE|CONFLICT)/) });
    expect(await sessions.listUserSessions("hank", { audience: null })).toEqual([]);
  });

  it("40 parallel reads of a session whose touch is due touch it once, with one touched event", async () => {
    const clock = fakeClock();
    const sessions = ctx().sessions({ now: clock.now, idleTimeout: "1h" });
    const session = await sessions.resolve(undefined);
    session.set("n", 1);
    const cookie = `session=${tokenOf(await sessions.commit(session))}`;
    clock.advance(10 * 60_000); // past touchAfter (6 minutes)
    let touched = 0;
    sessions.on("touched", () => {
      touched += 1;
    });
    const reads = await Promise.all(Array.from({ length: 40 }, () => sessions.resolve(cookie)));
    expect(reads.every((read) => read.id === session.id)).toBe(true);
    expect(touched).toBe(1);
    const rows = await ctx().target.sql(`SELECT last_seen_at, version FROM "${ctx().schema}".sessions WHERE id = $1`, [session.id]);
    expect(new Date(rows[0]!.last_seen_at as string).getTime()).toBe(clock.now().getTime());
    expect(rows[0]!.version).toBe(1);
  });
});

describe.skipIf(!hasPostgres)("PgSessionStore started while the database is down", () => {
  it("recovers by itself when the database comes back, and close() after a failed start resolves", async () => {
    const url = new URL(DATABASE_URL);
    const hole = await startBlackHole({ host: url.hostname, port: Number(url.port || 5432) }, "blackhole");
    const pool = new pg.Pool({
      host: "127.0.0.1",
      port: hole.port,
      user: url.username,
      database: url.pathname.slice(1),
      connectionTimeoutMillis: 500,
    });
    pool.on("error", () => {});
    const schema = uniqueSchema("esdown");
    const store = new PgSessionStore({ pool, schemaName: schema, createTableIfMissing: true, pruneSessionInterval: false });
    const get = (sid: string) =>
      new Promise<unknown>((resolve, reject) => store.get(sid, (err, value) => (err ? reject(err) : resolve(value))));
    try {
      await expect(get("sid-before")).rejects.toMatchObject({ code: "ERR_SESSION_STORE" });
      hole.setMode("forward");
      await expect(get("sid-after")).resolves.toBeNull();
      await new Promise<void>((resolve, reject) =>
        store.set("sid-after", { cookie: { maxAge: 60_000 }, n: 1 }, (err) => (err ? reject(err) : resolve())),
      );
      await expect(get("sid-after")).resolves.toMatchObject({ n: 1 });
    } finally {
      await store.close();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      await pool.end();
      await hole.close();
    }
    const failed = new PgSessionStore({ conString: "postgres://postgres@127.0.0.1:1/none", pruneSessionInterval: false });
    await expect(
      new Promise((resolve, reject) => failed.get("x", (err, value) => (err ? reject(err) : resolve(value)))),
    ).rejects.toBeDefined();
    await expect(failed.close()).resolves.toBeUndefined();
  }, 30_000);
});
