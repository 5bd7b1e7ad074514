/**
 * An Express app as users write it, run with plain Node by test/package/tarball.test.ts in
 * a scratch application that installed the packed pgsession next to Express 4:
 * pgsession's own middleware under /pg, express-session with PgSessionStore under /es,
 * and under /down pgsession on a database that does not answer. Prints the address it
 * listens on.
 */
import { createServer } from "node:http";
import express from "express";
import session from "express-session";
import pg from "pg";
import { createSessions } from "pgsession";
import { sessionMiddleware } from "pgsession/express";
import { PgSessionStore } from "pgsession/express-session";
import { pgStore } from "pgsession/pg";

const schema = process.env.PGSESSION_SCHEMA;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
pool.on("error", (err) => console.error("pool:", err.message));
const sessions = createSessions({ store: pgStore(pool), schema });
await sessions.migrate();
const down = createSessions({ store: pgStore({ connectionString: process.env.DOWN_URL }) });

// Express 4 does not catch a rejected promise: each async step ends in next(err).
const own = express.Router();
own.use(sessionMiddleware(sessions));
own.get("/me", (req, res) => res.json({ user: req.session.userId, visits: req.session.get("visits") ?? 0 }));
own.post("/count", (req, res) => {
  req.session.set("visits", (req.session.get("visits") ?? 0) + 1);
  res.json({ visits: req.session.get("visits") });
});
own.post("/login", (req, res, next) => req.session.login("ada").then(() => res.json({ user: req.session.userId }), next));
own.post("/logout", (req, res, next) => req.session.logout().then(() => res.json({ ok: true }), next));

const legacy = express.Router();
const store = new PgSessionStore({ pool, schemaName: schema, tableName: "express_sessions", pruneSessionInterval: false });
legacy.use(session({ store, secret: "scratch app", resave: false, saveUninitialized: false }));
legacy.post("/count", (req, res) => {
  req.session.visits = (req.session.visits ?? 0) + 1;
  res.json({ visits: req.session.visits });
});
legacy.post("/logout", (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.json({ ok: true }))));

const app = express();
app.use("/pg", own);
app.use("/es", legacy);
app.use("/down", sessionMiddleware(down), (req, res) => res.json({ id: req.session.id }));
const server = createServer(app).listen(0, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
