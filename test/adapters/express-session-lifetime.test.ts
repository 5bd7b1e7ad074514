/**
 * PgSessionStore follows express-session's lifetime model: a session lives as long as its
 * cookie says, counted again at every save and touch; a cookie already expired ends it; a
 * missing lifetime, only, falls back to `ttl`; and there is no absolute limit unless
 * `absoluteTtl` sets one.
 */
import { createServer } from "node:http";
import { createRequire } from "node:module";
import express from "express";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgSessionStore, type SessionToStore, type StoredExpressSession } from "../../src/adapters/express-session.js";
import { createSessions } from "../../src/index.js";
import { hashToken } from "../../src/session/token.js";
import { pgStore } from "../../src/store/pg.js";
import { DATABASE_URL, fakeClock, hasPostgres, uniqueSchema } from "../support/db.js";
import { httpSend, listen } from "./client.js";

// Loaded untyped: express-session's global types would clash with pgsession/express's own.
const session = createRequire(import.meta.url)("express-session") as (options: Record<string, unknown>) => express.RequestHandler;
type Req = express.Request & { session: Record<string, any> & { cookie: Record<string, any> } };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function call<T>(fn: (cb: (err?: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}
const sidOf = (cookie: string) => decodeURIComponent(cookie.split("=")[1]!).slice(2).split(".")[0]!;

describe.skipIf(!hasPostgres)("PgSessionStore: a session lives as long as its cookie says", () => {
  const schema = uniqueSchema("es_life");
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  const store = new PgSessionStore({ pool, schemaName: schema, pruneSessionInterval: false });
  const servers: Array<() => Promise<void>> = [];

  /** Milliseconds the row of `sid` has left by the database's clock, or null when it is not live. */
  async function rowLeft(sid: string): Promise<number | null> {
    const { rows } = await pool.query(
      `SELECT extract(epoch FROM idle_expires_at - now()) * 1000 AS left FROM ${schema}.sessions
        WHERE token_hash = decode($1, 'hex') AND idle_expires_at > now()`,
      [hashToken(sid)],
    );
    return rows[0] ? Number(rows[0].left) : null;
  }

  /** An express-session app on the store; requests read the body to the end (the save happens before). */
  async function app(cookie: Record<string, unknown>, routes: (app: express.Express) => void) {
    const application = express();
    application.use(session({ store, secret: "test secret", resave: false, saveUninitialized: false, cookie }));
    routes(application);
    const server = await listen(createServer(application));
    servers.push(server.close);
    const send = httpSend(server.base);
    return async (path: string, cookieHeader?: string) => {
      const res = await send(path === "/" ? "GET" : "POST", path, cookieHeader ? { cookie: cookieHeader } : {});
      const body = await res.text();
      return { body, cookie: (res.headers.getSetCookie()[0] ?? "").split(";")[0] as string };
    };
  }

  beforeAll(async () => {
    await store.sessions(); // migrated
  });
  afterAll(async () => {
    for (const close of servers) await close();
    await store.close();
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  it("a cookie that has already run out when set() is called is stored as expired, not for the default day", async () => {
    const live: SessionToStore = { cookie: { maxAge: HOUR }, n: 1 };
    for (const [sid, cookie] of [
      ["expired-by-maxage-000000000000", { maxAge: -1 }],
      ["expired-at-zero-00000000000000", { maxAge: 0 }],
      ["expired-by-expires-00000000000", { expires: new Date(Date.now() - 1000).toISOString() }],
    ] as const) {
      await call((cb) => store.set(sid, { cookie, n: 1 }, cb));
      expect(await call((cb) => store.get(sid, cb)), sid).toBeNull();
      // A live session saved with an expired cookie ends (its row kept empty, as after destroy).
      await call((cb) => store.set(`${sid}-live`, live, cb));
      await call((cb) => store.set(`${sid}-live`, { cookie, n: 2 }, cb));
      expect(await call((cb) => store.get(`${sid}-live`, cb)), sid).toBeNull();
    }
    // Only a cookie that gives no lifetime (a browser-session cookie) falls back to the ttl.
    await call((cb) => store.set("no-lifetime-00000000000000000", { cookie: { expires: null }, n: 1 }, cb));
    expect(await rowLeft("no-lifetime-00000000000000000")).toBeGreaterThan(DAY - 60_000);
  });

  it("express-session's `cookie.maxAge: 5` session is gone 20 ms later: a new session, nothing left in the store", async () => {
    let count = 0;
    const request = await app({ maxAge: 5 }, (a) =>
      a.get("/", (req, res) => {
        const s = (req as Req).session;
        s.num ??= ++count;
        res.end(`session ${s.num}`);
      }),
    );
    const first = await request("/");
    expect(first.body).toBe("session 1");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await call<Record<string, StoredExpressSession>>((cb) => store.all(cb))).not.toHaveProperty(sidOf(first.cookie));
    const second = await request("/", first.cookie);
    expect(second.body).toBe("session 2");
    expect(sidOf(second.cookie)).not.toBe(sidOf(first.cookie));
  });

  it("a handler's new cookie lifetime is the session's: 'remember me' lives 30 days, a past expiry ends it", async () => {
    const request = await app({ maxAge: HOUR }, (a) => {
      a.get("/", (req, res) => {
        const s = (req as Req).session;
        s.n = (s.n ?? 0) + 1;
        res.json({ n: s.n });
      });
      // Only the cookie changes: express-session then calls touch(), not set().
      a.post("/remember", (req, res) => {
        (req as Req).session.cookie.maxAge = 30 * DAY;
        res.json({ ok: true });
      });
      // Data and cookie change: set().
      a.post("/login", (req, res) => {
        const s = (req as Req).session;
        s.user = "ann";
        s.cookie.maxAge = 30 * DAY;
        res.json({ ok: true });
      });
      a.post("/expire", (req, res) => {
        (req as Req).session.cookie.expires = new Date(Date.now() - 1000);
        res.json({ ok: true });
      });
      a.post("/expire-with-data", (req, res) => {
        const s = (req as Req).session;
        s.n = 100;
        s.cookie.expires = new Date(Date.now() - 1000);
        res.json({ ok: true });
      });
    });

    for (const path of ["/remember", "/login"]) {
      const { cookie } = await request("/");
      const sid = sidOf(cookie);
      expect(await rowLeft(sid)).toBeLessThanOrEqual(HOUR);
      await request(path, cookie);
      expect(await rowLeft(sid), path).toBeGreaterThan(30 * DAY - 60_000);
    }
    for (const path of ["/expire", "/expire-with-data"]) {
      const { cookie } = await request("/");
      expect(await rowLeft(sidOf(cookie))).not.toBeNull();
      await request(path, cookie);
      expect(await rowLeft(sidOf(cookie)), path).toBeNull();
      expect((await request("/", cookie)).body, path).toBe('{"n":1}'); // a fresh session
    }
  });

  it("touch renews the lifetime from the cookie at most once per tenth of it, and a shorter one at once", async () => {
    const sid = "touched-0000000000000000000000";
    await call((cb) => store.set(sid, { cookie: { maxAge: HOUR }, n: 1 }, cb));
    await pool.query(`UPDATE ${schema}.sessions SET idle_expires_at = now() + interval '55 minutes' WHERE token_hash = decode($1, 'hex')`, [
      hashToken(sid),
    ]);
    // 5 minutes of renewal is less than a tenth of an hour: no write.
    await call((cb) => store.touch(sid, { cookie: { maxAge: HOUR } }, cb));
    expect(await rowLeft(sid)).toBeLessThan(56 * 60_000);
    await pool.query(`UPDATE ${schema}.sessions SET idle_expires_at = now() + interval '50 minutes' WHERE token_hash = decode($1, 'hex')`, [
      hashToken(sid),
    ]);
    await call((cb) => store.touch(sid, { cookie: { maxAge: HOUR } }, cb));
    expect(await rowLeft(sid)).toBeGreaterThan(59 * 60_000);
    await call((cb) => store.touch(sid, { cookie: { maxAge: 10 * 60_000 } }, cb));
    expect(await rowLeft(sid)).toBeLessThanOrEqual(10 * 60_000);
    await call((cb) => store.touch(sid, { cookie: { maxAge: -1 } }, cb));
    expect(await rowLeft(sid)).toBeNull();
  });
});

describe.skipIf(!hasPostgres)("PgSessionStore: no absolute limit unless absoluteTtl sets one", () => {
  const schema = uniqueSchema("es_abs");
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const clock = fakeClock();
  const sessions = createSessions({ store: pgStore(pool), schema, now: clock.now });
  const cookie = { maxAge: DAY };

  beforeAll(() => sessions.migrate());
  afterAll(async () => {
    await sessions.close();
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  /** Saves a session, then touches it every 20 hours for `days`; whether it is still live. */
  async function liveAfter(store: PgSessionStore, sid: string, days: number): Promise<boolean> {
    await call((cb) => store.set(sid, { cookie, n: 1 }, cb));
    for (let hours = 20; hours <= days * 24; hours += 20) {
      clock.advance(20 * HOUR);
      await call((cb) => store.touch(sid, { cookie }, cb));
    }
    return (await call((cb) => store.get(sid, cb))) !== null;
  }

  it("an active session outlives the manager's 7-day absolute timeout, as in express-session", async () => {
    const store = new PgSessionStore({ sessions, pruneSessionInterval: false });
    expect(sessions.options.standard.absoluteMs).toBe(7 * DAY);
    expect(await liveAfter(store, "active-for-ten-days-0000000000", 10)).toBe(true);
  });

  it("with absoluteTtl, it ends then however active", async () => {
    const store = new PgSessionStore({ sessions, absoluteTtl: 3 * 86_400, pruneSessionInterval: false });
    expect(await liveAfter(store, "limited-to-three-days-00000000", 2)).toBe(true);
    expect(await liveAfter(store, "limited-to-three-days-11111111", 4)).toBe(false);
  });

  it("refuses a ttl or absoluteTtl that is not a positive number of seconds, or a bad table name, at construction", () => {
    expect(() => new PgSessionStore({ pool, schemaName: "not-an-identifier" })).toThrow(/invalid option schemaName/);
    expect(() => new PgSessionStore({ pool, tableName: "x; drop" })).toThrow(/invalid option tableName/);
    expect(() => new PgSessionStore({ sessions, ttl: 0 })).toThrow(/invalid option ttl/);
    expect(() => new PgSessionStore({ sessions, absoluteTtl: -1 })).toThrow(/invalid option absoluteTtl/);
    expect(() => new PgSessionStore({ sessions, ttl: "1d" as unknown as number })).toThrow(/seconds/);
  });
});
