/**
 * PgSessionStore under the real express-session: an app written for connect-pg-simple
 * works by changing the `store:` line, and the table holds hashes of sids, never sids.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import express from "express";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgSessionStore, type StoredExpressSession } from "../../src/adapters/express-session.js";
import { SessionConfigError } from "../../src/errors.js";
import { createSessions } from "../../src/index.js";
import { hashToken } from "../../src/session/token.js";
import { pgliteStore } from "../../src/store/pglite.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { httpSend, listen, type Send } from "./client.js";

// Loaded untyped: express-session's global types would clash with pgsession/express's own.
const session = createRequire(import.meta.url)("express-session") as (options: Record<string, unknown>) => express.RequestHandler;
type Req = express.Request & { session: Record<string, any> & { destroy(cb: (err?: unknown) => void): void } };

function call<T>(fn: (cb: (err?: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

describe.skipIf(!hasPostgres)("PgSessionStore with express-session", () => {
  const schema = uniqueSchema("express_session");
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 5 });
  const store = new PgSessionStore({ pool, schemaName: schema, pruneSessionInterval: false });
  let send: Send = () => Promise.reject(new Error("not started"));
  let close: () => Promise<void> = async () => {};

  beforeAll(async () => {
    const app = express();
    // The connect-pg-simple app, but for this one line.
    app.use(session({ store, secret: "test secret", resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }));
    app.get("/count", (req, res) => {
      const s = (req as Req).session;
      s.count = (s.count ?? 0) + 1;
      res.json({ count: s.count });
    });
    app.get("/peek", (req, res) => {
      res.json({ count: (req as Req).session.count ?? 0 });
    });
    app.post("/logout", (req, res, next) => {
      (req as Req).session.destroy((err) => (err ? next(err) : res.json({ ok: true })));
    });
    const server = await listen(createServer(app));
    send = httpSend(server.base);
    close = server.close;
  });
  afterAll(async () => {
    await close?.();
    await store.close();
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  // express-session finishes its save before it ends the body: always read to the end.
  const get = async (method: string, path: string, headers: Record<string, string> = {}) => {
    const res = await send(method, path, headers);
    const text = await res.text();
    return { status: res.status, json: JSON.parse(text) as unknown, cookie: (res.headers.getSetCookie()[0] ?? "").split(";")[0] as string };
  };
  const sidOf = (cookie: string) => decodeURIComponent(cookie.split(";")[0]!.split("=")[1]!).slice(2).split(".")[0]!;

  it("stores, reads and counts sessions, keeping only the hash of the sid", async () => {
    const first = await get("GET", "/count");
    expect(first.json).toEqual({ count: 1 });
    const cookie = first.cookie;
    expect(cookie).toMatch(/^connect\.sid=s%3A/);
    const second = await get("GET", "/count", { cookie });
    expect(second.json).toEqual({ count: 2 });

    const sid = sidOf(cookie);
    const rows = (await pool.query(`SELECT encode(token_hash, 'hex') AS hash, data::text AS data FROM ${schema}.sessions`)).rows;
    expect(rows.map((r) => r.hash)).toContain(hashToken(sid));
    expect(JSON.stringify(rows)).not.toContain(sid);

    expect(await call<number>((cb) => store.length(cb))).toBe(1);
    const all = await call<Record<string, StoredExpressSession>>((cb) => store.all(cb));
    expect(Object.values(all).map((s) => s.count)).toEqual([2]);
    expect(Object.keys(all)).not.toContain(sid);
  });

  it("writes nothing for a visitor whose session stays empty", async () => {
    const before = await call<number>((cb) => store.length(cb));
    const res = await get("GET", "/peek");
    expect(res.cookie).toBe("");
    expect(await call<number>((cb) => store.length(cb))).toBe(before);
  });

  it("destroys: the old cookie then gets a fresh session, and a late set does not bring it back", async () => {
    const { cookie } = await get("GET", "/count");
    const sid = sidOf(cookie);
    const stored = (await call<StoredExpressSession | null>((cb) => store.get(sid, cb))) as StoredExpressSession;
    expect((await get("POST", "/logout", { cookie })).status).toBe(200);
    expect(await call((cb) => store.get(sid, cb))).toBeNull();
    expect((await get("GET", "/peek", { cookie })).json).toEqual({ count: 0 });
    // An expired-but-unpruned row: a set must not revive it.
    await pool.query(`UPDATE ${schema}.sessions SET idle_expires_at = now() - interval '1 second'`);
    const live = (await get("GET", "/count")).cookie;
    await pool.query(`UPDATE ${schema}.sessions SET idle_expires_at = now() - interval '1 second'`);
    await expect(call((cb) => store.set(sidOf(live), stored, cb))).rejects.toMatchObject({ code: "ERR_SESSION_GONE" });
  });

  it("regression: a save racing a destroy does not re-create the session (express-session has no create call)", async () => {
    const { cookie } = await get("GET", "/count");
    const sid = sidOf(cookie);
    const inFlight = (await call<StoredExpressSession | null>((cb) => store.get(sid, cb))) as StoredExpressSession;
    await call((cb) => store.destroy(sid, cb));
    // Another request of the same session, still running, saves after the destroy.
    await expect(call((cb) => store.set(sid, { ...inFlight, count: 99 }, cb))).rejects.toMatchObject({ code: "ERR_SESSION_GONE" });
    expect(await call((cb) => store.get(sid, cb))).toBeNull();
    const [row] = (await pool.query(`SELECT data, user_id FROM ${schema}.sessions WHERE token_hash = decode($1, 'hex')`, [hashToken(sid)]))
      .rows;
    expect(row).toEqual({ data: {}, user_id: null }); // the tombstone keeps nothing of the session
    expect((await get("GET", "/peek", { cookie })).json).toEqual({ count: 0 });
  });

  it("refuses session data over maxDataSize", async () => {
    const { cookie } = await get("GET", "/count");
    const big = { cookie: { maxAge: 1000 }, blob: "x".repeat(70_000) };
    await expect(call((cb) => store.set(sidOf(cookie), big, cb))).rejects.toMatchObject({ code: "ERR_SESSION_DATA_TOO_LARGE" });
  });

  it("touches, and refuses junk sids without a query", async () => {
    const { cookie } = await get("GET", "/count");
    const sid = sidOf(cookie);
    const seen = async () =>
      (
        await pool.query(
          `SELECT now() - last_seen_at < interval '1 minute' AS recent FROM ${schema}.sessions WHERE token_hash = decode($1, 'hex')`,
          [hashToken(sid)],
        )
      ).rows[0];
    // Last seen long ago, and its cookie's hour nearly over: touch() renews it for another hour.
    await pool.query(
      `UPDATE ${schema}.sessions SET last_seen_at = now() - interval '3 days', idle_expires_at = now() + interval '1 minute'
        WHERE token_hash = decode($1, 'hex')`,
      [hashToken(sid)],
    );
    expect(await seen()).toEqual({ recent: false });
    await call((cb) => store.touch(sid, { cookie: { maxAge: 3_600_000 } }, cb));
    expect(await seen()).toEqual({ recent: true });
    await call((cb) => store.touch("junk", {}, cb)); // not a sid: nothing, no error
    expect(await call((cb) => store.get("x".repeat(1000), cb))).toBeNull();
    expect(await call((cb) => store.get("bad sid\u0000", cb))).toBeNull();
  });

  it("clears every session", async () => {
    await get("GET", "/count");
    await call((cb) => store.clear(cb));
    expect(await call<number>((cb) => store.length(cb))).toBe(0);
  });
});

describe("PgSessionStore and encryption at rest", () => {
  it("refuses sessions with the encrypt option instead of writing express-session's clear data", async () => {
    const sessions = createSessions({ store: pgliteStore(), encrypt: { keys: [{ id: "k1", key: randomBytes(32) }] } });
    const store = new PgSessionStore({ sessions, pruneSessionInterval: false });
    try {
      await expect(store.sessions()).rejects.toBeInstanceOf(SessionConfigError);
      const error = await new Promise((resolve) => store.get("a".repeat(32), (err) => resolve(err)));
      expect(error).toBeInstanceOf(SessionConfigError);
    } finally {
      await sessions.close();
    }
  });
});
