/**
 * Moving from @fastify/session (with @fastify/cookie and a connect-pg-simple store) to
 * pgsession, as docs/migrating.md describes: the same routes written both ways, and the
 * same scenario run against each, which must answer alike.
 * `npm run example:migrate-fastify` (needs DATABASE_URL).
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyRequest } from "fastify";
import pg from "pg";
import { createSessions } from "pgsession";
import { pgsessionPlugin } from "pgsession/fastify";
import { pgStore } from "pgsession/pg";
import { compare, runScenario } from "./scenario.js";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("set DATABASE_URL to a PostgreSQL database (the example creates its own tables)");
const schema = process.env.PGSESSION_SCHEMA ?? "pgsession_migrating";
const pool = new pg.Pool({ connectionString: url });
await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);

type Query = { Querystring: { item?: string; user?: string } };

// ---- Before: @fastify/cookie + @fastify/session + connect-pg-simple -------------------
// @fastify/session takes any express-session-style store; connect-pg-simple asks for the
// express-session module only to extend its Store class.
const expressSession = (await import("express-session" as string)).default;
const PgStore = (await import("connect-pg-simple" as string)).default(expressSession) as new (options: object) => object;

/** @fastify/session's session, as the routes use it. */
type FastifySessionLike = {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  regenerate(): Promise<void>;
  destroy(): Promise<void>;
};
const legacy = (request: FastifyRequest) => (request as unknown as { session: FastifySessionLike }).session;

async function before(): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register((await import("@fastify/cookie")).default);
  // Loaded untyped: its types declare `request.session` too, which an app has only one of.
  const fastifySession = (await import("@fastify/session" as string)).default as FastifyPluginAsync<Record<string, unknown>>;
  await app.register(fastifySession, {
    store: new PgStore({ pool, schemaName: schema, createTableIfMissing: true }),
    secret: "a secret of at least 32 characters, rotated",
    saveUninitialized: false,
    cookieName: "sessionId",
    cookie: { secure: false, httpOnly: true, sameSite: "lax" },
  });
  app.get("/me", async (request) => ({ user: legacy(request).get("user") ?? null, cart: legacy(request).get("cart") ?? [] }));
  app.post<Query>("/cart", async (request) => {
    const cart = [...((legacy(request).get("cart") as string[] | undefined) ?? []), String(request.query.item)];
    legacy(request).set("cart", cart);
    return { cart };
  });
  app.post<Query>("/login", async (request) => {
    // A new session id at login (against fixation), the cart copied over by hand.
    const cart = legacy(request).get("cart");
    await legacy(request).regenerate();
    legacy(request).set("user", String(request.query.user));
    if (cart) legacy(request).set("cart", cart);
    return { user: legacy(request).get("user") };
  });
  app.post("/logout", async (request) => {
    await legacy(request).destroy();
    return { ok: true };
  });
  return app;
}

// ---- After: pgsession -----------------------------------------------------------------
const sessions = createSessions<{ cart: string[] }>({ store: pgStore(pool), schema, prune: false, cookie: { name: "sessionId" } });
await sessions.migrate();

async function after(): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(pgsessionPlugin, { sessions });
  app.get("/me", async (request) => ({ user: request.session.userId, cart: request.session.get("cart") ?? [] }));
  app.post<Query>("/cart", async (request) => {
    const cart = [...((request.session.get("cart") as string[] | undefined) ?? []), String(request.query.item)];
    request.session.set("cart", cart);
    return { cart };
  });
  app.post<Query>("/login", async (request) => {
    // A new token, the old one dead at once, the data kept: no copying.
    await request.session.login(String(request.query.user));
    return { user: request.session.userId };
  });
  app.post("/logout", async (request) => {
    await request.session.logout();
    return { ok: true };
  });
  return app;
}

const old = await before();
const migrated = await after();
try {
  const [oldBase, newBase] = [await old.listen({ port: 0, host: "127.0.0.1" }), await migrated.listen({ port: 0, host: "127.0.0.1" })];
  process.exitCode = compare(await runScenario(oldBase, "sessionId"), await runScenario(newBase, "sessionId"), [
    "@fastify/session + connect-pg-simple",
    "pgsession",
  ]);
} finally {
  await old.close();
  await migrated.close();
  await sessions.close();
  await pool.end();
}
