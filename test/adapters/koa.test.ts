import { createServer } from "node:http";
import Koa from "koa";
import { describe, expect, it } from "vitest";
import { sessionMiddleware, type KoaSessionOptions } from "../../src/adapters/koa.js";
import { SessionStoreError } from "../../src/errors.js";
import type { Sessions } from "../../src/index.js";
import { hasPostgres } from "../support/db.js";
import { Browser, httpSend, listen, parseSetCookie } from "./client.js";
import { runAdapterContract, suiteSessions } from "./contract.js";
import { handleRoute, type AppData } from "./routes.js";

/** Serves `app` over real HTTP on a loopback port. */
async function serveKoa(app: Koa<any, any>) {
  const { base, close } = await listen(createServer(app.callback()));
  return { send: httpSend(base), close };
}

/** The contract's routes behind the middleware. */
function contractApp(sessions: Sessions<AppData>, options?: KoaSessionOptions): Koa {
  const app = new Koa();
  app.use(sessionMiddleware(sessions, options));
  app.use(async (ctx) => {
    const answer = await handleRoute(sessions, ctx.method, ctx.originalUrl, ctx.session as never);
    if (answer.cookie) ctx.append("Set-Cookie", answer.cookie);
    if (answer.cacheControl) ctx.set("Cache-Control", answer.cacheControl);
    ctx.status = answer.status;
    ctx.body = answer.body;
  });
  return app;
}

describe("pgsession/koa", () => {
  runAdapterContract("koa", (sessions) => serveKoa(contractApp(sessions)));

  describe.skipIf(!hasPostgres)("in Koa's terms", () => {
    const suite = suiteSessions("koa_terms");

    it("commits before Koa writes: the login's cookie is on the response, and an upstream middleware sees it stored", async () => {
      const app = new Koa();
      const seenUpstream: unknown[] = [];
      app.use(async (ctx, next) => {
        await next();
        // Runs after pgsession's commit, before Koa writes the response.
        seenUpstream.push(ctx.headerSent, ctx.response.get("Set-Cookie"));
      });
      app.use(sessionMiddleware(suite.sessions));
      app.use(async (ctx) => {
        if (ctx.path === "/login") await ctx.session.login("ada");
        ctx.body = String(ctx.session.userId);
      });
      const server = await serveKoa(app);
      try {
        const b = new Browser(server.send, "sid");
        const login = await b.request("POST", "/login");
        expect(login.status).toBe(200);
        expect(login.setCookies).toHaveLength(1);
        expect(seenUpstream[0]).toBe(false);
        expect([seenUpstream[1]].flat()).toEqual(login.setCookies);
        expect((await b.request("GET", "/me")).body).toBe("ada");
      } finally {
        await server.close();
      }
    });

    it("hands other errors to Koa without committing, and answers a handler's SessionStoreError with 503", async () => {
      const app = new Koa();
      app.silent = true;
      const errors: unknown[] = [];
      app.on("error", (err) => errors.push(err));
      app.use(sessionMiddleware(suite.sessions));
      app.use(async (ctx) => {
        ctx.session.set("count", 1);
        ctx.set("X-App", "1");
        if (ctx.path === "/boom") ctx.throw(418, "teapot");
        if (ctx.path === "/store") throw new SessionStoreError("down");
        ctx.body = "ok";
      });
      const server = await serveKoa(app);
      try {
        const boom = await new Browser(server.send, "sid").request("GET", "/boom");
        expect(boom.status).toBe(418);
        expect(boom.setCookies).toEqual([]);
        expect(errors).toHaveLength(1);
        const store = await server.send("GET", "/store", {});
        expect(store.status).toBe(503);
        expect(store.headers.getSetCookie()).toEqual([]);
        expect(store.headers.get("retry-after")).toBe("5");
        // pgsession's answer replaces the app's: none of its headers stay.
        expect(store.headers.get("x-app")).toBeNull();
        expect(errors).toHaveLength(1);
      } finally {
        await server.close();
      }
    });

    it("answers through onStoreError and onSessionGone when given", async () => {
      const app = new Koa();
      app.use(
        sessionMiddleware(suite.sessions, {
          onStoreError: (_err, ctx) => {
            ctx.status = 503;
            ctx.body = "later, please";
          },
          onSessionGone: (_err, ctx) => ctx.redirect("/signed-out"),
        }),
      );
      app.use(async (ctx) => {
        if (ctx.path === "/store") throw new SessionStoreError("down");
        if (ctx.path === "/revoke") await suite.sessions.revokeSession(ctx.session.id);
        ctx.session.set("count", ((ctx.session.get("count") as number) ?? 0) + 1);
        ctx.body = "ok";
      });
      const server = await serveKoa(app);
      try {
        const store = await server.send("GET", "/store", {});
        expect(store.status).toBe(503);
        expect(await store.text()).toBe("later, please");
        const b = new Browser(server.send, "sid");
        await b.request("POST", "/inc");
        const gone = await b.request("POST", "/revoke");
        expect(gone.status).toBe(302);
        // The app's answer to a gone session is its own: no clearing cookie added.
        expect(gone.setCookies).toEqual([]);
      } finally {
        await server.close();
      }
    });

    it("with ctx.respond = false: adds the cookie while the headers are unsent, and stores but cannot send it after", async () => {
      const app = new Koa();
      app.use(async (ctx, next) => {
        await next();
        // Written once the chain below returned (pgsession's commit included).
        if (ctx.path === "/late") ctx.res.end("written later");
      });
      app.use(sessionMiddleware(suite.sessions));
      app.use(async (ctx) => {
        ctx.respond = false;
        ctx.session.set("count", 1);
        if (ctx.path === "/early") {
          ctx.res.end("written by the handler");
          await new Promise((resolve) => ctx.res.once("finish", resolve));
        }
      });
      const server = await serveKoa(app);
      const errors: unknown[] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => errors.push(args[0]);
      try {
        const late = await new Browser(server.send, "sid").request("GET", "/late");
        expect(late.body).toBe("written later");
        expect(late.setCookies.map((line) => parseSetCookie(line).name)).toEqual(["sid"]);
        const early = await new Browser(server.send, "sid").request("GET", "/early");
        expect(early.body).toBe("written by the handler");
        expect(early.setCookies).toEqual([]);
        await expect.poll(() => errors.length).toBe(1);
        expect(String(errors[0])).toMatch(/its cookie was not sent/);
      } finally {
        console.error = original;
        await server.close();
      }
    });

    it("reads the client address and https through app.proxy when pgsession is given no trustProxy", async () => {
      const proxied = new Koa();
      proxied.proxy = true;
      const direct = new Koa();
      for (const app of [proxied, direct]) {
        app.use(sessionMiddleware(suite.sessions));
        app.use(async (ctx) => {
          ctx.session.set("count", 1);
          ctx.body = "ok";
        });
      }
      const headers = { "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.9" };
      for (const [app, secure] of [
        [proxied, true],
        [direct, false],
      ] as const) {
        const server = await serveKoa(app);
        try {
          const answer = await new Browser(server.send, "sid").request("GET", "/", headers);
          expect("secure" in parseSetCookie(answer.setCookies[0] as string)).toBe(secure);
        } finally {
          await server.close();
        }
      }
      const rows = await suite.pool.query(`SELECT ip FROM ${suite.schema}.sessions WHERE ip IS NOT NULL ORDER BY created_at DESC LIMIT 2`);
      expect(rows.rows.map((row) => String(row.ip))).toEqual(["127.0.0.1", "203.0.113.9"]);
    });
  });
});
