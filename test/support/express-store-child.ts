/**
 * A child process for express-store-dropin.test.ts, for what a test cannot observe in its own
 * process (vitest owns the process's error handlers and its module resolution). Prints one
 * JSON line of results. Modes:
 * - `callback-throws`: a store callback throws; reports whether the process saw an uncaught
 *   exception or an unhandled rejection.
 * - `no-express-session`: express-session cannot be resolved (as when the application does
 *   not have it); reports what constructing the store does, then runs express-session
 *   handed over as connect-pg-simple takes it.
 * - `prune-fails`: background pruning fails (the database is unreachable) with no "error"
 *   listener on the store; reports that the process lives on.
 */
import { createServer } from "node:http";
import Module, { createRequire } from "node:module";
import express from "express";
import pg from "pg";
import { PgSessionStore } from "../../src/adapters/express-session.js";
import { createSessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";

const mode = process.argv[2];
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
const schema = process.env.PGSESSION_SCHEMA as string;
const report = (value: unknown) => console.log(JSON.stringify(value));

async function finish(store: PgSessionStore, value: unknown): Promise<never> {
  await store.close();
  await pool.end();
  report(value);
  process.exit(0);
}

if (mode === "callback-throws") {
  const store = new PgSessionStore({ pool, schemaName: schema, pruneSessionInterval: false });
  const seen: string[] = [];
  process.on("uncaughtException", (err) => seen.push(`uncaughtException: ${err.message}`));
  process.on("unhandledRejection", (err) => seen.push(`unhandledRejection: ${(err as Error).message}`));
  store.get("sid-0000000000000000000000000000", () => {
    throw new Error("thrown by the get callback");
  });
  store.set("sid-0000000000000000000000000000", { cookie: { maxAge: 60_000 } }, () => {
    throw new Error("thrown by the set callback");
  });
  setTimeout(() => void finish(store, seen), 1500);
} else if (mode === "no-express-session") {
  const require = createRequire(import.meta.url);
  const expressSession = require(require.resolve("express-session"));
  // From here on the package cannot be resolved by name, from anywhere.
  const resolve = (Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string })._resolveFilename;
  (Module as unknown as { _resolveFilename: typeof resolve })._resolveFilename = function (request, ...rest) {
    if (request === "express-session") throw Object.assign(new Error("Cannot find module 'express-session'"), { code: "MODULE_NOT_FOUND" });
    return resolve.call(this, request, ...rest);
  };
  let refused: { code: string | undefined; message: string } | null = null;
  try {
    new PgSessionStore({ pool, schemaName: schema, pruneSessionInterval: false });
  } catch (err) {
    refused = { code: (err as { code?: string }).code, message: (err as Error).message };
  }
  const store = new PgSessionStore({ pool, schemaName: schema, pruneSessionInterval: false, session: expressSession });
  const app = express();
  app.use(expressSession({ store, secret: "test secret", resave: false, saveUninitialized: false }));
  app.get("/", (req, res) => {
    const s = (req as unknown as { session: { n?: number } }).session;
    s.n = (s.n ?? 0) + 1;
    res.json({ n: s.n });
  });
  const server = createServer(app).listen(0, "127.0.0.1", async () => {
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const first = await fetch(base);
    const cookie = (first.headers.getSetCookie()[0] ?? "").split(";")[0] as string;
    const counts = [await first.json(), await (await fetch(base, { headers: { cookie } })).json()];
    server.close();
    await finish(store, { refused, counts });
  });
} else if (mode === "prune-fails") {
  const unreachable = pgStore({ connectionString: process.env.UNREACHABLE_URL, connectionTimeoutMillis: 200, onError: () => {} });
  const store = new PgSessionStore({ sessions: createSessions({ store: unreachable }), pruneSessionInterval: 0.05 });
  const seen: string[] = [];
  console.warn = (message: string) => seen.push(`warned: ${message}`);
  store.get("sid-0000000000000000000000000000", (err) => seen.push(`get: ${(err as { code?: string }).code}`));
  setTimeout(async () => {
    await store.close();
    await unreachable.close();
    await pool.end();
    report({ alive: true, seen: [...new Set(seen)] });
    process.exit(0);
  }, 1000);
} else {
  throw new Error(`unknown mode ${mode}`);
}
