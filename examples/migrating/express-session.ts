/**
 * Moving from express-session + connect-pg-simple to pgsession, as docs/migrating.md
 * describes: the same routes written both ways, and the same scenario run against each,
 * which must answer alike. `npm run example:migrate-express` (needs DATABASE_URL).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import pg from "pg";
import { createSessions } from "pgsession";
import { sessionMiddleware } from "pgsession/express";
import { pgStore } from "pgsession/pg";
import { compare, runScenario } from "./scenario.js";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("set DATABASE_URL to a PostgreSQL database (the example creates its own tables)");
const schema = process.env.PGSESSION_SCHEMA ?? "pgsession_migrating";
const pool = new pg.Pool({ connectionString: url });
await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);

// ---- Before: express-session + connect-pg-simple --------------------------------------
// (Both packages are untyped CommonJS here; an app would use @types/express-session.)
const session = (await import("express-session" as string)).default as (options: object) => express.RequestHandler;
const PgStore = (await import("connect-pg-simple" as string)).default(session) as new (options: object) => object;

/** express-session's session, as the routes use it. */
type ExpressSession = Record<string, unknown> & {
  regenerate(done: (err?: unknown) => void): void;
  destroy(done: (err?: unknown) => void): void;
};

function before(): express.Express {
  const app = express();
  app.use(
    session({
      store: new PgStore({ pool, schemaName: schema, createTableIfMissing: true }),
      secret: "a secret of at least 32 characters, rotated",
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: "lax" },
    }),
  );
  const sessionOf = (req: express.Request) => (req as unknown as { session: ExpressSession }).session;
  app.get("/me", (req, res) => {
    const s = sessionOf(req);
    res.json({ user: s.user ?? null, cart: s.cart ?? [] });
  });
  app.post("/cart", (req, res) => {
    const s = sessionOf(req);
    s.cart = [...((s.cart as string[] | undefined) ?? []), String(req.query.item)];
    res.json({ cart: s.cart });
  });
  app.post("/login", (req, res, next) => {
    // The usual idiom: a new session id at login (against fixation), the cart copied over by hand.
    const cart = sessionOf(req).cart;
    sessionOf(req).regenerate((err) => {
      if (err) return next(err);
      const s = sessionOf(req);
      s.user = String(req.query.user);
      if (cart) s.cart = cart;
      res.json({ user: s.user });
    });
  });
  app.post("/logout", (req, res, next) => {
    sessionOf(req).destroy((err) => {
      if (err) return next(err);
      res.clearCookie("connect.sid").json({ ok: true });
    });
  });
  return app;
}

// ---- After: pgsession -----------------------------------------------------------------
type Data = { cart: string[] };
const sessions = createSessions<Data>({ store: pgStore(pool), schema, prune: false, cookie: { name: "connect.sid" } });
await sessions.migrate();

function after(): express.Express {
  const app = express();
  app.use(sessionMiddleware(sessions));
  app.get("/me", (req, res) => {
    res.json({ user: req.session.userId, cart: req.session.get("cart") ?? [] });
  });
  app.post("/cart", (req, res) => {
    const cart = [...((req.session.get("cart") as string[] | undefined) ?? []), String(req.query.item)];
    req.session.set("cart", cart);
    res.json({ cart });
  });
  app.post("/login", async (req, res) => {
    // A new token, the old one dead at once, the data kept: no copying.
    await req.session.login(String(req.query.user));
    res.json({ user: req.session.userId });
  });
  app.post("/logout", async (req, res) => {
    await req.session.logout();
    res.json({ ok: true });
  });
  return app;
}

async function serve(app: express.Express): Promise<{ base: string; server: Server }> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const old = await serve(before());
const migrated = await serve(after());
try {
  const code = compare(await runScenario(old.base, "connect.sid"), await runScenario(migrated.base, "connect.sid"), [
    "express-session + connect-pg-simple",
    "pgsession",
  ]);
  process.exitCode = code;
} finally {
  old.server.close();
  migrated.server.close();
  await sessions.close();
  await pool.end();
}
