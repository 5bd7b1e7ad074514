import Fastify, { type FastifyReply } from "fastify";
import fp from "fastify-plugin";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { pgsessionPlugin } from "../../src/adapters/fastify.js";
import { unencapsulated } from "../../src/adapters/fastify/unencapsulated.js";
import { createSessions, type Sessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { Browser, closedPort, httpSend, parseSetCookie } from "./client.js";
import { runAdapterContract, testOptions } from "./contract.js";
import { handleRoute, type AppData } from "./routes.js";

describe("pgsession/fastify", () => {
  /** Serves the contract's routes; `reply` answers in one of Fastify's two handler styles. */
  const serve = (reply: (r: FastifyReply, answer: { status: number; body: unknown }) => unknown) => async (sessions: Sessions<AppData>) => {
    const app = Fastify();
    await app.register(pgsessionPlugin, { sessions });
    app.all("/*", async (request, r) => {
      const answer = await handleRoute(sessions, request.method, request.url, request.session as never);
      if (answer.cookie) r.header("set-cookie", answer.cookie);
      if (answer.cacheControl) r.header("cache-control", answer.cacheControl);
      return reply(r, answer);
    });
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    return { send: httpSend(base), close: () => app.close() };
  };
  runAdapterContract(
    "fastify",
    serve((r, answer) => r.code(answer.status).send(answer.body)),
  );
  // The body returned rather than `reply.send`: a request that changed nothing passes the
  // onSend hook synchronously; one that did waits for its commit.
  runAdapterContract(
    "fastify, body returned",
    serve((r, answer) => {
      r.code(answer.status);
      return answer.body;
    }),
  );

  describe.skipIf(!hasPostgres)("regressions", () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
    const schema = uniqueSchema("fastify_reg");
    afterAll(async () => {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    });

    it("bug: a gone session's 409 kept the dead cookie when the app had set a cookie of its own", async () => {
      const sessions = createSessions<AppData>(testOptions(schema, pgStore(pool)));
      await sessions.migrate();
      const app = Fastify();
      await app.register(pgsessionPlugin, { sessions });
      app.post("/inc", async (request) => {
        request.session.set("count", 1);
        return { ok: true };
      });
      app.post("/theme-then-login", async (request, reply) => {
        reply.header("set-cookie", "theme=dark; Path=/");
        await sessions.revokeSession(request.session.id);
        await request.session.login("zoe"); // SessionGoneError: revoked meanwhile
        return { ok: true };
      });
      const base = await app.listen({ port: 0, host: "127.0.0.1" });
      try {
        const b = new Browser(httpSend(base), "sid");
        await b.request("POST", "/inc");
        const answer = await b.request("POST", "/theme-then-login");
        expect(answer.status).toBe(409);
        const cleared = answer.setCookies.map(parseSetCookie).filter((cookie) => cookie.name === "sid");
        expect(cleared).toHaveLength(1);
        expect(cleared[0]?.["max-age"]).toBe("0");
      } finally {
        await app.close();
      }
    });

    it("answers 500, and keeps serving, when onStoreError throws for a commit PostgreSQL refused", async () => {
      const sessions = createSessions<AppData>(testOptions(schema, pgStore(pool)));
      await sessions.migrate();
      // A real refusal from PostgreSQL for the write of one key.
      await pool.query(`ALTER TABLE ${schema}.sessions DROP CONSTRAINT IF EXISTS refuse_poison`);
      await pool.query(`ALTER TABLE ${schema}.sessions ADD CONSTRAINT refuse_poison CHECK (NOT (data ? 'poison')) NOT VALID`);
      const app = Fastify();
      await app.register(pgsessionPlugin, {
        sessions,
        onStoreError: () => {
          throw new Error("the app's handler failed");
        },
      });
      app.post("/poison", async (request) => {
        request.session.set("poison" as never, true as never);
        return { ok: true };
      });
      app.get("/ping", async () => "pong");
      const base = await app.listen({ port: 0, host: "127.0.0.1" });
      try {
        const b = new Browser(httpSend(base), "sid");
        const refused = await b.request("POST", "/poison");
        expect(refused.status).toBe(500);
        expect(refused.setCookies).toEqual([]);
        expect((await b.request("GET", "/ping")).status).toBe(200);
      } finally {
        await app.close();
      }
    });

    it("answers a database down while resolving with onStoreError's answer, never running the route; a throwing onStoreError answers 500", async () => {
      const port = await closedPort();
      const down = createSessions<AppData>(
        testOptions(
          schema,
          pgStore({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, connectionTimeoutMillis: 2000, onError: () => {} }),
        ),
      );
      let routeRuns = 0;
      let throwing = false;
      const app = Fastify();
      await app.register(pgsessionPlugin, {
        sessions: down,
        onStoreError: (_err, _request, reply) => {
          if (throwing) throw new Error("the app's handler failed");
          reply.code(503);
          return { error: "try again soon" };
        },
      });
      app.get("/peek", async () => {
        routeRuns += 1;
        return { ok: true };
      });
      const base = await app.listen({ port: 0, host: "127.0.0.1" });
      try {
        const b = new Browser(httpSend(base), "sid");
        b.cookie = "A".repeat(43);
        const answered = await b.request("GET", "/peek");
        expect(answered.status).toBe(503);
        expect(answered.body).toEqual({ error: "try again soon" });
        expect(answered.setCookies).toEqual([]);
        throwing = true;
        const failed = await b.request("GET", "/peek");
        expect(failed.status).toBe(500);
        expect(failed.setCookies).toEqual([]);
        expect(routeRuns).toBe(0);
      } finally {
        await app.close();
        await down.close();
      }
    });
  });

  // pgsession marks its plugin as fastify-plugin would, without depending on it: these fail
  // if Fastify stops reading one of the marks (see src/adapters/fastify/unencapsulated.ts).
  describe("the plugin's marks", () => {
    const sessions = createSessions<AppData>();
    afterAll(() => sessions.close());

    it("is not encapsulated: its hook serves the routes of the scope that registered it, and of that scope's children", async () => {
      const app = Fastify();
      await app.register(async (scope) => {
        await scope.register(pgsessionPlugin, { sessions });
        scope.get("/same", async (request) => ({ isNew: request.session.isNew }));
        await scope.register(async (child) => {
          child.get("/nested", async (request) => ({ isNew: request.session.isNew }));
        });
      });
      expect((await app.inject("/same")).json()).toEqual({ isNew: true });
      expect((await app.inject("/nested")).json()).toEqual({ isNew: true });
      await app.close();
    });

    it('is named "pgsession", for hasPlugin() and other plugins\' dependencies', async () => {
      const app = Fastify();
      await app.register(pgsessionPlugin, { sessions });
      await app.register(fp(async () => {}, { name: "needs-sessions", dependencies: ["pgsession"] }));
      expect(app.hasPlugin("pgsession")).toBe(true);
      await app.close();
      const without = Fastify();
      await expect(without.register(fp(async () => {}, { dependencies: ["pgsession"] }))).rejects.toMatchObject({
        code: "FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED",
      });
    });

    it("has its Fastify range checked at register time", async () => {
      const app = Fastify();
      const plugin = unencapsulated(async () => {}, "needs-fastify-4", "4.x");
      await expect(app.register(plugin)).rejects.toMatchObject({ code: "FST_ERR_PLUGIN_VERSION_MISMATCH" });
    });
  });
});
