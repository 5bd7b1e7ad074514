/**
 * Regression tests for bugs the fault and log suites found, each named after its bug.
 */
import { createServer } from "node:http";
import Fastify from "fastify";
import pg from "pg";
import { pgsessionPlugin } from "../../src/adapters/fastify.js";
import { afterAll, describe, expect, it } from "vitest";
import { withSession as withFetchSession } from "../../src/adapters/fetch.js";
import { withSession } from "../../src/adapters/node.js";
import type { Session } from "../../src/session/session.js";
import { createSessions, type Sessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { listen, parseSetCookie } from "../adapters/client.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { hashToken } from "../../src/session/token.js";
import { Client, COOKIE, serveApp, type Data } from "./app.js";
import { startBlackHole } from "./blackhole.js";
import { captureConsole, sleep, verifyWrites } from "./harness.js";

describe.skipIf(!hasPostgres)("fault regressions", () => {
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  admin.on("error", () => {}); // the owner listens to idle-connection errors (backends are killed on purpose)
  afterAll(() => admin.end());

  it("bug: a connection dropped between two statements of a pg transaction crashed the process (checked-out client had no 'error' listener)", async () => {
    const applicationName = `pgsession_${uniqueSchema("txdrop")}`;
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2, application_name: applicationName });
    pool.on("error", () => {}); // the owner listens to idle-connection errors (backends are killed on purpose)
    const driver = pgStore(pool);
    try {
      const attempt = driver.transaction(async (tx) => {
        await tx.query({ name: "txdrop_one", text: "SELECT 1 AS one" }, []);
        // The server drops this connection while the transaction waits on something else.
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [applicationName]);
        await sleep(300);
        return tx.query({ name: "txdrop_two", text: "SELECT 2 AS two" }, []);
      });
      // Before the fix, the dropped connection's 'error' event had no listener: an uncaught
      // exception that took the process down. Now the next statement fails, as a rejection.
      await expect(attempt).rejects.toThrow();
      // The broken client was destroyed, not returned: the pool serves the next statement.
      expect(await driver.query({ name: "txdrop_three", text: "SELECT 3 AS three" }, [])).toEqual([{ three: 3 }]);
    } finally {
      await pool.end();
    }
  });

  /** The app of the next test, over either carrier: /login stores a login, then writes what the table refuses. */
  type Send = (path: string, cookie: string) => Promise<Response>;
  const loginThenRefused = {
    node: async (sessions: Sessions): Promise<{ send: Send; close(): Promise<void> }> => {
      const server = await listen(
        createServer(
          withSession(sessions, async (req, res, session) => {
            const body = await appRoute(req.url ?? "/", session);
            res.writeHead(200, { "content-type": "application/json" });
            res.end(body);
          }),
        ),
      );
      return {
        send: (path, cookie) => fetch(server.base + path, { method: "POST", headers: cookie ? { cookie: `sid=${cookie}` } : {} }),
        close: server.close,
      };
    },
    fetch: async (sessions: Sessions): Promise<{ send: Send; close(): Promise<void> }> => {
      const handler = withFetchSession(
        sessions,
        async (request, session) => new Response(await appRoute(new URL(request.url).pathname, session)),
      );
      return {
        send: (path, cookie) =>
          handler(new Request(`http://localhost${path}`, { method: "POST", headers: cookie ? { cookie: `sid=${cookie}` } : {} })),
        close: async () => {},
      };
    },
    fastify: async (sessions: Sessions): Promise<{ send: Send; close(): Promise<void> }> => {
      const app = Fastify();
      await app.register(pgsessionPlugin, { sessions });
      app.post("/*", async (request, reply) => {
        reply.type("application/json");
        return appRoute(request.url, request.session);
      });
      const base = await app.listen({ port: 0, host: "127.0.0.1" });
      return {
        send: (path, cookie) => fetch(base + path, { method: "POST", headers: cookie ? { cookie: `sid=${cookie}` } : {} }),
        close: () => app.close(),
      };
    },
  };
  async function appRoute(path: string, session: Session): Promise<string> {
    if (path === "/login" || path === "/retry") {
      await session.login("erin");
      if (path === "/login") session.set("poison", true);
    } else if (path === "/visit") {
      session.set("visited", true);
    }
    return JSON.stringify({ user: session.userId, isNew: session.isNew });
  }

  for (const carrier of ["node", "fetch", "fastify"] as const) {
    it(`bug: a 503 after a stored login withheld the new cookie: the retried login answered 500 and the user lost the session after staleTtl (${carrier})`, async () => {
      const schema = uniqueSchema("rotlost");
      const sessions = createSessions({ store: pgStore(admin), schema, cookie: { name: "sid" }, staleTtl: "1s" });
      await sessions.migrate();
      // A real refusal from PostgreSQL, only for the write that follows the login.
      await admin.query(`ALTER TABLE "${schema}".sessions ADD CONSTRAINT refuse_poison CHECK (NOT (data ? 'poison')) NOT VALID`);
      const app = await loginThenRefused[carrier](sessions);
      let cookie = "";
      const send = async (path: string) => {
        const res = await app.send(path, cookie);
        for (const line of res.headers.getSetCookie()) cookie = parseSetCookie(line).value ?? "";
        return { status: res.status, body: await res.text(), setCookies: res.headers.getSetCookie() };
      };
      try {
        expect((await send("/visit")).status).toBe(200);
        const before = cookie;
        // The login is stored (new token, user bound); the write after it is refused: 503.
        const failed = await send("/login");
        expect(failed.status).toBe(503);
        // The 503 carries the stored token, so the client is not left holding one that dies.
        expect(failed.setCookies).toHaveLength(1);
        expect(cookie).not.toBe(before);
        // Retrying at once used to answer 500 (the old token could not rotate again: "stale").
        expect((await send("/retry")).status).toBe(200);
        // After the grace window of the old token, the client still has its session.
        await sleep(1_200);
        const after = await send("/me");
        expect(after.status).toBe(200);
        expect(JSON.parse(after.body)).toEqual({ user: "erin", isNew: false });
      } finally {
        await app.close();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    });
  }
  it("bug: a node handler that threw after starting its response left the client waiting forever", async () => {
    const schema = uniqueSchema("halfway");
    const sessions = createSessions({ store: pgStore(admin), schema });
    await sessions.migrate();
    const server = await listen(
      createServer(
        withSession(sessions, (_req, res, session) => {
          session.set("x", 1);
          res.writeHead(200, { "content-type": "text/plain" });
          res.write("half a page");
          throw new Error("failed half-way on purpose");
        }),
      ),
    );
    const logs = captureConsole();
    try {
      const started = Date.now();
      const outcome = await fetch(server.base + "/", { signal: AbortSignal.timeout(5_000) })
        .then((res) => res.text())
        .catch((err: Error) => err);
      // The connection is closed: the client sees a failed response, at once, not a timeout
      // (and never a clean end that would make half a page look complete).
      expect(outcome).toBeInstanceOf(Error);
      expect((outcome as Error).name).not.toBe("TimeoutError");
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      logs.restore();
      await server.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
    expect(logs.lines.join("\n")).toContain("handler failed after starting its response");
  });

  it("bug: a rotation stored though its answer was lost left the client a token that died after staleTtl, and its login answered 409", async () => {
    const url = new URL(DATABASE_URL);
    const proxy = await startBlackHole({ host: url.hostname || "127.0.0.1", port: Number(url.port || 5432) }, "forward");
    const schema = uniqueSchema("lostack");
    const pool = new pg.Pool({
      host: "127.0.0.1",
      port: proxy.port,
      user: decodeURIComponent(url.username || "postgres"),
      database: url.pathname.slice(1) || "postgres",
      ...(url.password && { password: decodeURIComponent(url.password) }),
      max: 2,
      connectionTimeoutMillis: 2_000,
    });
    pool.on("error", () => {});
    const sessions = createSessions<Data>({ store: pgStore(pool), schema, cookie: { name: COOKIE } });
    await sessions.migrate();
    const server = await serveApp(sessions);
    const logs = captureConsole();
    try {
      const violations: string[] = [];
      const client = new Client(server.base, "ann", violations, { timeoutMs: 5_000 });
      expect(await client.login()).toBe(true);
      const first = client.id;
      const token = client.cookie as string;
      expect(await client.write()).toBe(200);
      // The rotation commits, and the connection dies before its acknowledgement arrives.
      proxy.cutAfter("pgsession_rotate_");
      expect(await client.rotate()).toBe(503);
      expect(client.cookie).toBe(token);
      const [row] = (
        await admin.query(`SELECT prev_token_hash = decode($1, 'hex') AS rotated FROM "${schema}".sessions WHERE id = $2`, [
          hashToken(token),
          first,
        ])
      ).rows;
      expect(row).toEqual({ rotated: true });
      // Inside the grace window the old token still reads and writes its session.
      expect(await client.write()).toBe(200);
      expect(await client.read(true)).toBe(200);
      // The next rotation finds the token already replaced (409, no cookie change); the client
      // signs in again, which used to answer 409 as well and left it to die with its token.
      expect(await client.settle()).toBe(true);
      expect(client.tally.ambiguousCommits).toBe(1);
      expect(client.id).not.toBe(first);
      expect(client.cookie).not.toBe(token);
      expect(await client.write()).toBe(200);
      expect(await client.read(false)).toBe(200);
      expect(violations).toEqual([]);
      // The new session carries the data written before (a login keeps the session's data).
      const [signedIn] = (await admin.query(`SELECT user_id, data FROM "${schema}".sessions WHERE id = $1`, [client.id])).rows;
      expect(signedIn).toEqual({ user_id: "ann", data: { w0: true, w1: true, w2: true } });
      // Every acknowledged write is in the session it was written to, the one left behind included.
      const sql = async (text: string, params: unknown[]) => (await admin.query(text, params)).rows;
      expect(await verifyWrites(sql, schema, [client], violations)).toBe(client.tally.writesAcked);
      expect(violations).toEqual([]);
    } finally {
      logs.restore();
      await server.close();
      await sessions.close();
      await pool.end().catch(() => {});
      await proxy.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });
});
