/**
 * PgSessionStore as a drop-in for connect-pg-simple: it builds on the application's
 * express-session (or refuses to be made), calls back outside promise reactions, answers a
 * save racing a destroy cleanly, and leaves a borrowed pool as it found it.
 */
import { spawn } from "node:child_process";
import type { EventEmitter } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import express from "express";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { PgSessionStore } from "../../src/adapters/express-session.js";
import { findStoreBase } from "../../src/adapters/express-store-base.js";
import { SessionConfigError } from "../../src/errors.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { TSX_LOADER } from "../support/cli.js";
import { closedPort, httpSend, listen } from "./client.js";

const require = createRequire(import.meta.url);
// Loaded untyped: express-session's global types would clash with pgsession/express's own.
const expressSession = require("express-session") as ((options: Record<string, unknown>) => express.RequestHandler) & { Store: object };
const fastifySession = require("@fastify/session") as { Store: object };
const CHILD = fileURLToPath(new URL("../support/express-store-child.ts", import.meta.url));
type Req = express.Request & { sessionID: string; session: Record<string, any> & { save(cb: (err?: unknown) => void): void } };

function call<T>(fn: (cb: (err?: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

/** Runs the child script in `mode`; resolves to the JSON line it printed (rejects if it crashed). */
function child(mode: string, env: Record<string, string>): Promise<any> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", TSX_LOADER, CHILD, mode], {
      env: { ...process.env, DATABASE_URL, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    proc.stdout.on("data", (chunk: Buffer) => (out += chunk));
    proc.stderr.on("data", (chunk: Buffer) => (out += chunk));
    proc.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("{") || l.startsWith("["));
      if (code === 0 && line) resolve(JSON.parse(line));
      else reject(new Error(`child ${mode} exited with ${code}:\n${out}`));
    });
  });
}

describe("PgSessionStore finds express-session's Store as the application does", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("takes it from the application's express-session before pgsession's own", () => {
    const app = mkdtempSync(join(tmpdir(), "pgsession-app-"));
    dirs.push(app);
    mkdirSync(join(app, "node_modules", "express-session"), { recursive: true });
    writeFileSync(
      join(app, "node_modules", "express-session", "index.js"),
      `class Store { createSession() {} regenerate() {} load() {} }\nmodule.exports = { Store, copy: "the application's" };\n`,
    );
    const fromApp = findStoreBase(undefined, [app]);
    expect(createRequire(join(app, "index.js"))("express-session").Store).toBe(fromApp);
    expect(findStoreBase(undefined, [tmpdir()])).toBe(expressSession.Store); // none there: pgsession's own
  });

  it("takes express-session or @fastify/session handed over, as connect-pg-simple does, and refuses anything else at once", () => {
    expect(findStoreBase(expressSession)).toBe(expressSession.Store);
    expect(findStoreBase(fastifySession)).toBe(fastifySession.Store);
    for (const wrong of [{}, null, { Store: "no" }]) {
      expect(() => new PgSessionStore({ session: wrong as never, pool: {} })).toThrow(SessionConfigError);
    }
    // A store made for @fastify/session has no express-session methods to lend, and says so.
    const forFastify = new PgSessionStore({ session: fastifySession, pool: {}, pruneSessionInterval: false });
    expect(() => forFastify.createSession({}, { cookie: {} })).toThrow(/express-session's/);
  });

  it.skipIf(!hasPostgres)(
    "without express-session it refuses to be made, with a clear error; handed express-session, it serves it",
    async () => {
      const schema = uniqueSchema("es_base");
      try {
        const result = await child("no-express-session", { PGSESSION_SCHEMA: schema });
        expect(result.refused.code).toBe("ERR_SESSION_CONFIG");
        expect(result.refused.message).toMatch(/express-session could not be resolved.*new PgSessionStore\(\{ session, pool \}\)/);
        expect(result.counts).toEqual([{ n: 1 }, { n: 2 }]);
      } finally {
        const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await pool.end();
      }
    },
    30_000,
  );
});

describe.skipIf(!hasPostgres)("PgSessionStore under express-session", () => {
  const schema = uniqueSchema("es_dropin");
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 5 });
  const store = new PgSessionStore({ pool, schemaName: schema, pruneSessionInterval: false });
  afterAll(async () => {
    await store.close();
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  it("lends express-session's regenerate: a new sid, the old one destroyed", async () => {
    const app = express();
    app.use(expressSession({ store, secret: "test secret", resave: false, saveUninitialized: false }));
    app.get("/", (req, res) => {
      (req as Req).session.n = 1;
      res.json({ id: (req as Req).sessionID });
    });
    app.get("/regenerate", (req, res, next) => {
      const old = (req as Req).sessionID;
      (req as Req).session.regenerate((err: unknown) => (err ? next(err) : res.json({ old, id: (req as Req).sessionID })));
    });
    const server = await listen(createServer(app));
    try {
      const send = httpSend(server.base);
      const first = await send("GET", "/", {});
      const cookie = (first.headers.getSetCookie()[0] ?? "").split(";")[0] as string;
      await first.text();
      const regenerated = (await (await send("GET", "/regenerate", { cookie })).json()) as { old: string; id: string };
      expect(regenerated.id).not.toBe(regenerated.old);
      expect(await call((cb) => store.get(regenerated.old, cb))).toBeNull();
    } finally {
      await server.close();
    }
  });

  it("a save racing a destroy is refused (409 to an explicit save, the response intact for the automatic one); the session stays gone", async () => {
    let release = () => {};
    const app = express();
    app.use(expressSession({ store, secret: "test secret", resave: false, saveUninitialized: false }));
    app.get("/login", (req, res) => {
      (req as Req).session.user = "ann";
      res.json({ ok: true });
    });
    app.get("/logout", (req, res, next) => {
      (req as unknown as { session: { destroy(cb: (err?: unknown) => void): void } }).session.destroy((err) =>
        err ? next(err) : res.json({ out: true }),
      );
    });
    const held = () => new Promise<void>((resolve) => (release = resolve));
    app.get("/slow", async (req, res) => {
      await held();
      (req as Req).session.n = 1;
      res.json({ body: "complete" }); // saved by express-session at the end
    });
    app.get("/slow-save", async (req, res, next) => {
      await held();
      (req as Req).session.n = 1;
      (req as Req).session.save((err) => (err ? next(err) : res.json({ saved: true })));
    });
    app.use((err: { statusCode?: number; code?: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
      if (res.headersSent) return next(err);
      res.status(err.statusCode ?? 500).json({ code: err.code });
    });
    const server = await listen(createServer(app));
    const send = httpSend(server.base);
    try {
      for (const [path, status, body] of [
        ["/slow", 200, { body: "complete" }],
        ["/slow-save", 409, { code: "ERR_SESSION_GONE" }],
      ] as const) {
        const login = await send("GET", "/login", {});
        const cookie = (login.headers.getSetCookie()[0] ?? "").split(";")[0] as string;
        await login.text();
        const inFlight = send("GET", path, { cookie }).then(async (res) => ({ status: res.status, body: await res.json() }));
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect((await send("GET", "/logout", { cookie })).status).toBe(200);
        release();
        expect(await inFlight, path).toEqual({ status, body });
        const sid = decodeURIComponent(cookie.split("=")[1]!).slice(2).split(".")[0]!;
        expect(await call((cb) => store.get(sid, cb)), path).toBeNull();
        expect((await send("GET", "/login", {})).status).toBe(200); // and the server serves on
      }
    } finally {
      await server.close();
    }
  });

  it("an exception thrown by a callback is an ordinary uncaught exception, not a hidden unhandled rejection", async () => {
    const seen = await child("callback-throws", { PGSESSION_SCHEMA: schema });
    expect(seen).toEqual(["uncaughtException: thrown by the get callback", "uncaughtException: thrown by the set callback"]);
  }, 30_000);

  it("regression: a failing background prune with no 'error' listener warns and does not end the process", async () => {
    const result = await child("prune-fails", { UNREACHABLE_URL: `postgres://postgres@127.0.0.1:${await closedPort()}/test` });
    expect(result.alive).toBe(true);
    expect(result.seen).toEqual(
      expect.arrayContaining(["get: ERR_SESSION_STORE", expect.stringMatching(/^warned: pgsession: pruning failed/)]),
    );
  }, 30_000);

  it("several stores on one borrowed pool add no listeners that outlive them", async () => {
    const listeners = (emitter: EventEmitter) =>
      Object.fromEntries(emitter.eventNames().map((name) => [String(name), emitter.listenerCount(name)]));
    const borrowed = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const client = await borrowed.connect();
      const clientBefore = listeners(client);
      client.release();
      const before = listeners(borrowed);
      const stores = Array.from(
        { length: 12 },
        (_, i) => new PgSessionStore({ pool: borrowed, schemaName: schema, pruneSessionInterval: i % 2 === 0 ? 60 : false }),
      );
      for (const [i, each] of stores.entries()) {
        const sid = `listeners-${i}-00000000000000000000`;
        await call((cb) => each.set(sid, { cookie: { maxAge: 60_000 }, i }, cb));
        await call((cb) => each.get(sid, cb));
        await call((cb) => each.touch(sid, { cookie: { maxAge: 60_000 } }, cb));
        await call((cb) => each.destroy(sid, cb));
      }
      for (const each of stores) await each.close();
      expect(listeners(borrowed)).toEqual(before);
      const after = await borrowed.connect();
      expect(listeners(after)).toEqual(clientBefore);
      after.release();
      expect(warnings.map((w) => w.name)).not.toContain("MaxListenersExceededWarning");
    } finally {
      process.off("warning", onWarning);
      await borrowed.end();
    }
  });
});
