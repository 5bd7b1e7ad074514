import { createServer, ServerResponse as NodeServerResponse, type ServerResponse } from "node:http";
import express from "express";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionMiddleware } from "../../src/adapters/express.js";
import { isHeldThroughPrototype } from "../../src/adapters/node-carrier.js";
import { createSessions, type Sessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { Browser, httpSend, listen } from "./client.js";
import { runAdapterContract, testOptions } from "./contract.js";
import { handleRoute, type AppData } from "./routes.js";

/** The contract's routes on an Express app. */
function contractRoutes(app: express.Express, sessions: Sessions<AppData>): void {
  app.all("/{*path}", async (req, res) => {
    const answer = await handleRoute(sessions, req.method, req.originalUrl, req.session as never);
    if (answer.cookie) res.append("Set-Cookie", answer.cookie);
    res.status(answer.status).json(answer.body);
  });
}

/** A middleware wrapping `res.writeHead` on the response itself, as on-headers and compression do. */
const wrapsWriteHead: express.RequestHandler = (_req, res, next) => {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    this.setHeader("x-wrapped", "1");
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
  next();
};

describe("pgsession/express", () => {
  /** Serves the app `build` returns. */
  const serve = (build: (sessions: Sessions<AppData>) => express.Express) => async (sessions: Sessions<AppData>) => {
    const { base, close } = await listen(createServer(build(sessions)));
    return { send: httpSend(base), close };
  };
  const withMiddleware = (sessions: Sessions<AppData>, ...before: express.RequestHandler[]) => {
    const app = express();
    for (const handler of before) app.use(handler);
    app.use(sessionMiddleware(sessions));
    return app;
  };

  runAdapterContract("express", serve((sessions) => {
    const app = withMiddleware(sessions);
    contractRoutes(app, sessions);
    return app;
  }));
  // Held one by one (own-property wrappers) when something else wrapped the response first.
  runAdapterContract("express wrapped", serve((sessions) => {
    const app = withMiddleware(sessions, wrapsWriteHead);
    contractRoutes(app, sessions);
    return app;
  }));
  // A mounted sub-app gives the response its own prototype while its routes run.
  runAdapterContract("express subapp", serve((sessions) => {
    const app = withMiddleware(sessions);
    const sub = express();
    contractRoutes(sub, sessions);
    return app.use(sub);
  }));

  describe.skipIf(!hasPostgres)("holding the response through Express's response prototype", () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
    const schema = uniqueSchema("express_hold");
    let sessions: Sessions<AppData>;
    beforeAll(async () => {
      sessions = createSessions<AppData>(testOptions(schema, pgStore(pool)));
      await sessions.migrate();
    });
    afterAll(async () => {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    });
    const ownOutputProperties = (res: ServerResponse) =>
      ["writeHead", "write", "end", "flushHeaders", "headersSent"].filter((name) => Object.hasOwn(res, name));

    it("adds no property to a held response, tells the app it has started, and stores before answering", async () => {
      const app = express();
      app.use(sessionMiddleware(sessions));
      const seen: unknown[] = [];
      app.post("/login", async (req, res) => {
        await req.session.login("ada");
        seen.push(res.headersSent);
        res.write("logged ");
        // Held until the login is stored: the app sees a started response.
        seen.push(res.headersSent, ownOutputProperties(res));
        res.end("in");
      });
      app.get("/me", (req, res) => {
        seen.push(ownOutputProperties(res));
        res.send(String(req.session.userId));
      });
      const { base, close } = await listen(createServer(app));
      try {
        const b = new Browser(httpSend(base), "sid");
        const login = await b.request("POST", "/login");
        expect(login.status).toBe(200);
        expect(login.body).toBe("logged in");
        expect(login.setCookies).toHaveLength(1);
        expect((await b.request("GET", "/me")).body).toBe("ada");
        expect(seen).toEqual([false, true, [], []]);
      } finally {
        await close();
      }
    });

    it("hands a handler's error, thrown or rejected, to Express's error handler; nothing is left unhandled", async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on("unhandledRejection", onUnhandled);
      const app = express();
      app.use(sessionMiddleware(sessions));
      app.get("/throws", (req) => {
        req.session.set("n", 1);
        throw new Error("thrown");
      });
      app.get("/rejects", async (req) => {
        req.session.set("n", 2);
        throw new Error("rejected");
      });
      app.get("/n", (req, res) => void res.send(String(req.session.get("n") ?? "none")));
      app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).send(err.message));
      const { base, close } = await listen(createServer(app));
      try {
        const b = new Browser(httpSend(base), "sid");
        for (const path of ["/throws", "/rejects"]) {
          const answer = await b.request("GET", path);
          expect(answer.status).toBe(500);
          expect(answer.body).toBe(path === "/throws" ? "thrown" : "rejected");
        }
        // The error answer still carries the session: the change made before the error is stored.
        expect(String((await b.request("GET", "/n")).body)).toBe("2");
        await new Promise((resolve) => setImmediate(resolve));
        expect(unhandled).toEqual([]);
      } finally {
        process.off("unhandledRejection", onUnhandled);
        await close();
      }
    });

    it("keeps no state for a response once its output passes or its commit is stored", async () => {
      const app = express();
      app.use(sessionMiddleware(sessions));
      const seen: Array<[string, boolean]> = [];
      const watch = (label: string, res: ServerResponse) => seen.push([label, isHeldThroughPrototype(res)]);
      app.post("/login", async (req, res) => {
        await req.session.login("ada");
        watch("login, before output", res);
        res.on("finish", () => watch("login, finished", res));
        res.send("in");
        // The commit runs: still held until it is stored.
        watch("login, output held", res);
      });
      app.get("/read", (req, res) => {
        watch("read, before output", res);
        res.send(String(req.session.userId));
        // Nothing to commit: the output passed straight through.
        watch("read, after output", res);
      });
      const { base, close } = await listen(createServer(app));
      try {
        const b = new Browser(httpSend(base), "sid");
        expect((await b.request("POST", "/login")).status).toBe(200);
        expect((await b.request("GET", "/read")).body).toBe("ada");
        expect(seen).toEqual([
          ["login, before output", true], ["login, output held", true], ["login, finished", false],
          ["read, before output", true], ["read, after output", false],
        ]);
      } finally {
        await close();
      }
    });

    it("puts the session at req.session without adding it to the request, and keeps an app's own assignment", async () => {
      const app = express();
      app.use(sessionMiddleware(sessions));
      const seen: unknown[] = [];
      app.get("/count", (req, res) => {
        seen.push(Object.hasOwn(req, "session"));
        req.session.set("count", Number(req.session.get("count") ?? 0) + 1);
        res.send(String(req.session.get("count")));
      });
      app.get("/replaced", (req, res) => {
        const mine = { replaced: true };
        (req as unknown as { session: unknown }).session = mine;
        seen.push(Object.hasOwn(req, "session"), (req as unknown as { session: unknown }).session === mine);
        res.send("ok");
      });
      const { base, close } = await listen(createServer(app));
      try {
        const b = new Browser(httpSend(base), "sid");
        expect((await b.request("GET", "/count")).body).toBe(1);
        expect((await b.request("GET", "/count")).body).toBe(2);
        expect((await b.request("GET", "/replaced")).status).toBe(200);
        expect(seen).toEqual([false, false, true, true]);
        // A plain request of another app has no session at all.
        const plain = express();
        plain.get("/", (req, res) => res.send(String((req as unknown as { session?: unknown }).session)));
        const other = await listen(createServer(plain));
        try {
          expect(await (await fetch(other.base + "/")).text()).toBe("undefined");
        } finally {
          await other.close();
        }
      } finally {
        await close();
      }
    });

    it("lets go of a request's session once its response is released, and still answers req.session after it", async () => {
      const app = express();
      app.use(sessionMiddleware(sessions));
      // The slot's WeakMap, found by its symbol's description (it is not exported).
      const slotSymbol = Object.getOwnPropertySymbols(express.request).find((s) => s.description === "pgsession.sessionSlot");
      const slot = (express.request as unknown as Record<symbol, WeakMap<object, unknown>>)[slotSymbol!]!;
      const seen: Array<[string, unknown]> = [];
      const watch = (label: string, req: express.Request) =>
        seen.push([label, `${slot.has(req) ? "slot" : "settled"}:${req.session?.get("count") ?? "none"}`]);
      app.post("/count", async (req, res) => {
        req.session.set("count", Number(req.session.get("count") ?? 0) + 1);
        watch("before output", req);
        res.on("finish", () => watch("finished", req));
        res.send("ok");
        // The commit is running: the session is still the slot's.
        watch("output held", req);
      });
      app.get("/replaced-locals", (req, res) => {
        // An app replacing res.locals during the request keeps its session.
        res.locals = { page: "mine" };
        watch("locals replaced", req);
        res.on("finish", () => watch("replaced, finished", req));
        res.send(Object.keys(res.locals).join(","));
      });
      const { base, close } = await listen(createServer(app));
      try {
        const b = new Browser(httpSend(base), "sid");
        expect((await b.request("POST", "/count")).status).toBe(200);
        const replaced = await b.request("GET", "/replaced-locals");
        // The session's key never shows among the app's locals.
        expect(replaced.body).toBe("page");
        await new Promise((resolve) => setImmediate(resolve));
        expect(seen).toEqual([
          ["before output", "slot:1"], ["output held", "slot:1"], ["finished", "settled:1"],
          ["locals replaced", "slot:1"], ["replaced, finished", "settled:1"],
        ]);
      } finally {
        await close();
      }
    });

    it("leaves the responses of an app without pgsession as Node makes them", async () => {
      // The methods are installed on the prototype all Express apps share.
      express().use(sessionMiddleware(sessions));
      const plain = express();
      const seen: unknown[] = [];
      plain.get("/", (_req, res) => {
        seen.push(res.headersSent);
        res.writeHead(201, { "x-plain": "yes" });
        seen.push(res.headersSent);
        res.write("a");
        res.end("b");
      });
      const { base, close } = await listen(createServer(plain));
      try {
        const res = await fetch(base + "/");
        expect(res.status).toBe(201);
        expect(res.headers.get("x-plain")).toBe("yes");
        expect(await res.text()).toBe("ab");
        expect(seen).toEqual([false, true]);
      } finally {
        await close();
      }
    });

    it("commits both sessions when two pgsession middlewares hold one response", async () => {
      const other = createSessions<AppData>({ ...testOptions(schema, pgStore(pool)), table: "other_sessions", cookie: { name: "sid2" } });
      await other.migrate();
      const app = express();
      app.use(sessionMiddleware(sessions));
      const second = sessionMiddleware(other);
      app.use((req, res, next) => {
        const first = req.session;
        void second(req, res, (err?: unknown) => {
          (req as unknown as { other: typeof first }).other = req.session;
          req.session = first;
          next(err);
        });
      });
      app.post("/both", (req, res) => {
        req.session.set("count", 1);
        (req as unknown as { other: typeof req.session }).other.set("count", 2);
        res.json({ ok: true });
      });
      const { base, close } = await listen(createServer(app));
      try {
        const res = await fetch(base + "/both", { method: "POST" });
        expect(res.status).toBe(200);
        const names = res.headers.getSetCookie().map((line) => line.split("=", 1)[0]).sort();
        expect(names).toEqual(["sid", "sid2"]);
        const stored = async (table: string) => (await pool.query(`SELECT data FROM ${schema}.${table}`)).rows.map((row) => row.data.count);
        expect(await stored("sessions")).toContain(1);
        expect(await stored("other_sessions")).toEqual([2]);
      } finally {
        await close();
      }
    });

    it("holds responses on their own once the app replaces an installed method on express.response", async () => {
      express().use(sessionMiddleware(sessions));
      const installed = express.response.end;
      const calls: string[] = [];
      // Not chaining to what it replaced: straight to Node's own end.
      express.response.end = function (this: ServerResponse, ...args: unknown[]) {
        calls.push("app's end");
        return (NodeServerResponse.prototype.end as (...a: unknown[]) => ServerResponse).apply(this, args);
      } as typeof express.response.end;
      try {
        const app = express();
        app.use(sessionMiddleware(sessions));
        app.post("/inc", (req, res) => {
          req.session.set("count", 1);
          res.send("ok");
        });
        const { base, close } = await listen(createServer(app));
        try {
          const res = await fetch(base + "/inc", { method: "POST" });
          expect(res.status).toBe(200);
          expect(res.headers.getSetCookie()).toHaveLength(1);
          expect(calls).toContain("app's end");
        } finally {
          await close();
        }
      } finally {
        express.response.end = installed;
      }
    });

    it("holds a response whose writeHead another middleware wrapped, on the response itself", async () => {
      const app = express();
      app.use(wrapsWriteHead);
      app.use(sessionMiddleware(sessions));
      let own: string[] = [];
      app.post("/inc", (req, res) => {
        req.session.set("count", 1);
        own = ownOutputProperties(res);
        res.json({ ok: true });
      });
      const { base, close } = await listen(createServer(app));
      try {
        const res = await fetch(base + "/inc", { method: "POST" });
        expect(res.status).toBe(200);
        expect(res.headers.get("x-wrapped")).toBe("1");
        expect(res.headers.getSetCookie()).toHaveLength(1);
        expect(own).toEqual(expect.arrayContaining(["writeHead", "write", "end", "flushHeaders"]));
      } finally {
        await close();
      }
    });
  });
});
