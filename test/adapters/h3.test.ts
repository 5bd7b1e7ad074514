import { createServer } from "node:http";
import { H3, HTTPError, toNodeHandler } from "h3";
import { describe, expect, it } from "vitest";
import { sessionMiddleware, usePgSession } from "../../src/adapters/h3.js";
import { SessionStoreError } from "../../src/errors.js";
import type { Sessions } from "../../src/index.js";
import { hasPostgres } from "../support/db.js";
import { Browser, httpSend, listen, parseSetCookie } from "./client.js";
import { runAdapterContract, suiteSessions } from "./contract.js";
import { handleRoute, type AppData } from "./routes.js";

/** The contract's routes behind the middleware, answered through h3's prepared response. */
function contractApp(sessions: Sessions<AppData>): H3 {
  const app = new H3();
  app.use(sessionMiddleware(sessions));
  app.all("/**", async (event) => {
    const answer = await handleRoute(sessions, event.req.method, event.req.url, usePgSession<AppData>(event));
    if (answer.cookie) event.res.headers.append("set-cookie", answer.cookie);
    if (answer.cacheControl) event.res.headers.set("cache-control", answer.cacheControl);
    event.res.status = answer.status;
    return answer.body;
  });
  return app;
}

/** Serves `app` over real HTTP on a loopback port (node:http, h3's Node handler). */
async function serveH3(app: H3) {
  const { base, close } = await listen(createServer(toNodeHandler(app)));
  return { send: httpSend(base), close };
}

describe("pgsession/h3", () => {
  runAdapterContract("h3", async (sessions) => {
    const app = contractApp(sessions);
    return {
      send: async (method, path, headers) => app.request(path, { method, headers }),
      close: async () => {},
    };
  });

  describe.skipIf(!hasPostgres)("in h3's terms, over real HTTP", () => {
    const suite = suiteSessions("h3_terms");

    it("serves the contract's routes on node:http: lazy creation, login, the app's own cookie, logout", async () => {
      const server = await serveH3(contractApp(suite.sessions));
      try {
        const b = new Browser(server.send, "sid");
        const peek = await b.request("GET", "/peek");
        expect(peek.body.isNew).toBe(true);
        expect(peek.setCookies).toEqual([]);
        const login = await b.request("POST", "/login?user=hana", { "x-forwarded-for": "203.0.113.7" });
        expect(login.status).toBe(200);
        expect(login.setCookies).toHaveLength(1);
        expect(login.cacheControl).toBe("no-store");
        const mixed = await new Browser(server.send, "sid").request("POST", "/with-cookie");
        expect(mixed.setCookies.map((line) => parseSetCookie(line).name).sort()).toEqual(["other", "sid"]);
        expect((await b.request("GET", "/peek")).body.user).toBe("hana");
        const out = await b.request("POST", "/logout");
        expect(parseSetCookie(out.setCookies[0] as string)["max-age"]).toBe("0");
        // No trustProxy: the address is the socket's, not the header's.
        const rows = await suite.pool.query(`SELECT DISTINCT ip FROM ${suite.schema}.sessions WHERE ip IS NOT NULL`);
        expect(rows.rows.map((row) => row.ip)).toContain("127.0.0.1");
        expect(rows.rows.map((row) => row.ip)).not.toContain("203.0.113.7");
      } finally {
        await server.close();
      }
    });

    it("puts the cookie on a Response the handler returns, 4xx and immutable ones included", async () => {
      const app = new H3();
      app.use(sessionMiddleware(suite.sessions));
      app.post("/redirect", (event) => {
        usePgSession(event).set("count", 1);
        return Response.redirect("http://127.0.0.1/next", 303);
      });
      app.post("/refused", (event) => {
        usePgSession(event).set("count", 2);
        return new Response("no", { status: 422 });
      });
      const server = await serveH3(app);
      try {
        const redirect = await new Browser(server.send, "sid").request("POST", "/redirect");
        expect(redirect.status).toBe(303);
        expect(redirect.setCookies).toHaveLength(1);
        const refused = await new Browser(server.send, "sid").request("POST", "/refused");
        expect(refused.status).toBe(422);
        expect(refused.setCookies).toHaveLength(1);
        expect(refused.cacheControl).toBe("no-store");
      } finally {
        await server.close();
      }
    });

    it("leaves other errors to h3 without committing; answers a handler's SessionStoreError with 503, or through onStoreError", async () => {
      const handlers = (app: H3) => {
        app.post("/teapot", (event) => {
          usePgSession(event).set("count", 1);
          throw new HTTPError({ status: 418, message: "teapot" });
        });
        app.post("/store", (event) => {
          usePgSession(event).set("count", 1);
          event.res.headers.set("x-app", "1");
          throw new SessionStoreError("down");
        });
        return app;
      };
      const plain = handlers(new H3().use(sessionMiddleware(suite.sessions)));
      const custom = handlers(
        new H3().use(
          sessionMiddleware(suite.sessions, {
            onStoreError: (_err, event) => {
              event.res.status = 503;
              return "later, please";
            },
          }),
        ),
      );
      const server = await serveH3(plain);
      try {
        const teapot = await server.send("POST", "/teapot", {});
        expect(teapot.status).toBe(418);
        expect(teapot.headers.getSetCookie()).toEqual([]);
        const store = await server.send("POST", "/store", {});
        expect(store.status).toBe(503);
        expect(store.headers.getSetCookie()).toEqual([]);
        expect(store.headers.get("retry-after")).toBe("5");
        expect(store.headers.get("x-app")).toBeNull();
      } finally {
        await server.close();
      }
      const answer = await custom.request("/store", { method: "POST" });
      expect(answer.status).toBe(503);
      expect(await answer.text()).toBe("later, please");
    });

    it("usePgSession without the middleware fails the request instead of returning nothing", async () => {
      const app = new H3({ silent: true });
      app.get("/", (event) => usePgSession(event).id);
      const answer = await app.request("/");
      expect(answer.status).toBe(500);
    });
  });
});
