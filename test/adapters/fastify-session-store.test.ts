/**
 * PgSessionStore as the store of @fastify/session (which takes express-session's stores):
 * handed @fastify/session as connect-pg-simple takes it, it needs no express-session.
 */
import { createRequire } from "node:module";
import Fastify, { type FastifyInstance, type FastifyPluginCallback } from "fastify";
import fastifyCookie from "@fastify/cookie";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgSessionStore } from "../../src/adapters/express-session.js";
import { hashToken } from "../../src/session/token.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";

// Loaded untyped: @fastify/session's declaration of request.session would clash with
// pgsession/fastify's own (test/peer-types checks its types with examples/fastify-session.ts).
const fastifySession = createRequire(import.meta.url)("@fastify/session") as FastifyPluginCallback<Record<string, unknown>> & {
  Store: object;
};
type Visits = { visits?: number; user?: string };
type FastifySessionObject = Visits & {
  sessionId: string;
  regenerate(keep?: string[]): Promise<void>;
  destroy(): Promise<void>;
};
const sessionOf = (request: object) => (request as { session: FastifySessionObject }).session;

describe.skipIf(!hasPostgres)("PgSessionStore with @fastify/session", () => {
  const schema = uniqueSchema("fastify_session");
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  const store = new PgSessionStore({ pool, session: fastifySession, schemaName: schema, pruneSessionInterval: false });
  let app: FastifyInstance;

  beforeAll(async () => {
    app = Fastify();
    await app.register(fastifyCookie);
    await app.register(fastifySession, {
      secret: "a secret of at least thirty-two characters",
      store,
      cookieName: "session",
      saveUninitialized: false,
      cookie: { secure: false, maxAge: 3_600_000 },
    });
    app.get("/count", async (request) => {
      const session = sessionOf(request);
      session.visits = (session.visits ?? 0) + 1;
      return { visits: session.visits };
    });
    app.get("/peek", async (request) => ({ visits: sessionOf(request).visits ?? 0 }));
    app.post("/login", async (request) => {
      await sessionOf(request).regenerate(["visits"]);
      sessionOf(request).user = "ann";
      return { sessionId: sessionOf(request).sessionId };
    });
    app.post("/logout", async (request, reply) => {
      await sessionOf(request).destroy();
      return reply.clearCookie("session").send({ ok: true });
    });
  });
  afterAll(async () => {
    await app?.close();
    await store.close();
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  const cookieOf = (response: { headers: Record<string, unknown> }) => String(response.headers["set-cookie"] ?? "").split(";")[0] as string;
  const sidOf = (cookie: string) => decodeURIComponent(cookie.split("=")[1]!).split(".")[0]!;

  it("stores, reads and counts, keeping only the hash of the sid, for as long as the cookie says", async () => {
    const first = await app.inject({ url: "/count" });
    expect(first.json()).toEqual({ visits: 1 });
    const cookie = cookieOf(first);
    expect((await app.inject({ url: "/count", headers: { cookie } })).json()).toEqual({ visits: 2 });
    const sid = sidOf(cookie);
    const { rows } = await pool.query(
      `SELECT data::text AS data, extract(epoch FROM idle_expires_at - now()) * 1000 AS left FROM ${schema}.sessions WHERE token_hash = decode($1, 'hex')`,
      [hashToken(sid)],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].data).not.toContain(sid);
    expect(Number(rows[0].left)).toBeGreaterThan(3_600_000 - 60_000);
    expect(Number(rows[0].left)).toBeLessThanOrEqual(3_600_000);
  });

  it("regenerate keeps the listed keys under a new sid and ends the old one; destroy ends the session", async () => {
    const counted = await app.inject({ url: "/count" });
    const cookie = cookieOf(counted);
    const login = await app.inject({ method: "POST", url: "/login", headers: { cookie } });
    const loggedIn = cookieOf(login);
    expect(sidOf(loggedIn)).not.toBe(sidOf(cookie));
    expect((await app.inject({ url: "/peek", headers: { cookie: loggedIn } })).json()).toEqual({ visits: 1 });
    expect((await app.inject({ url: "/peek", headers: { cookie } })).json()).toEqual({ visits: 0 });

    expect((await app.inject({ method: "POST", url: "/logout", headers: { cookie: loggedIn } })).json()).toEqual({ ok: true });
    expect((await app.inject({ url: "/peek", headers: { cookie: loggedIn } })).json()).toEqual({ visits: 0 });
    expect(await new Promise((resolve) => store.get(sidOf(loggedIn), (_err, value) => resolve(value)))).toBeNull();
  });
});
