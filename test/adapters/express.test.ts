import { createServer, ServerResponse as NodeServerResponse, type ServerResponse } from "node:http";
import express from "express";
import { describe, expect, it } from "vitest";
import { sessionMiddleware } from "../../src/adapters/express.js";
import { createSessions, type Sessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { hasPostgres } from "../support/db.js";
import { Browser, httpSend, listen } from "./client.js";
import { runAdapterContract, suiteSessions, testOptions } from "./contract.js";
import { handleRoute, type AppData } from "./routes.js";

/**
 * The contract's routes on an Express app. An error goes to next() as Express 4 needs (5
 * would also take the rejected promise of an async handler).
 */
function contractRoutes(app: express.Express, sessions: Sessions<AppData>): void {
  // Every path, in words Express 4 and 5 both read (their path syntaxes differ).
  app.use((req, res, next) => {
    handleRoute(sessions, req.method, req.originalUrl, req.session as never).then((answer) => {
      if (answer.cookie) res.append("Set-Cookie", answer.cookie);
      if (answer.cacheControl) res.set("Cache-Control", answer.cacheControl);
      res.status(answer.status).json(answer.body);
    }, next);
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

/** Which Express the suite runs on: 5, or 4 in the "express4" project of vitest.config.ts. */
const EXPRESS_4 = process.env.PGSESSION_EXPRESS === "4";

describe("pgsession/express", () => {
  it(`runs on Express ${EXPRESS_4 ? 4 : 5}`, () => {
    // express.query, the query-string middleware, is Express 4's and gone from 5.
    expect("query" in express).toBe(EXPRESS_4);
  });

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

  runAdapterContract(
    "express",
    serve((sessions) => {
      const app = withMiddleware(sessions);
      contractRoutes(app, sessions);
      return app;
    }),
  );
  // Held around the wrappers another middleware put on the response first.
  runAdapterContract(
    "express wrapped",
    serve((sessions) => {
      const app = withMiddleware(sessions, wrapsWriteHead);
      contractRoutes(app, sessions);
      return app;
    }),
  );
  // A mounted sub-app gives the response its own prototype while its routes run.
  runAdapterContract(
    "express subapp",
    serve((sessions) => {
      const app = withMiddleware(sessions);
      const sub = express();
      contractRoutes(sub, sessions);
      return app.use(sub);
    }),
  );

  describe.skipIf(!hasPostgres)("holding the response", () => {
    const suite = suiteSessions("express_hold");
    it("tells the app its held response has started, and stores before answering", async () => {
      const app = express();
      app.use(sessionMiddleware(suite.sessions));
      const seen: unknown[] = [];
      app.post("/login", async (req, res) => {
        await req.session.login("ada");
        seen.push(res.headersSent);
        res.write("logged ");
        // Held until the login is stored: the app sees a started response.
        seen.push(res.headersSent);
        res.end("in");
      });
      app.get("/me", (req, res) => void res.send(String(req.session.userId)));
      const { base, close } = await listen(createServer(app));
      try {
        const b = new Browser(httpSend(base), "sid");
        const login = await b.request("POST", "/login");
        expect(login.status).toBe(200);
        expect(login.body).toBe("logged in");
        expect(login.setCookies).toHaveLength(1);
        expect((await b.request("GET", "/me")).body).toBe("ada");
        expect(seen).toEqual([false, true]);
      } finally {
        await close();
      }
    });

    it("hands a handler's error, thrown or rejected, to Express's error handler; nothing is left unhandled", async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on("unhandledRejection", onUnhandled);
      const app = express();
      app.use(sessionMiddleware(suite.sessions));
      app.get("/throws", (req) => {
        req.session.set("n", 1);
        throw new Error("thrown");
      });
      // Express 5 hands an async handler's rejection to next(); Express 4 leaves that to the app.
      app.get(
        "/rejects",
        EXPRESS_4
          ? (req, _res, next) => {
              req.session.set("n", 2);
              Promise.reject(new Error("rejected")).catch(next);
            }
          : async (req) => {
              req.session.set("n", 2);
              throw new Error("rejected");
            },
      );
      app.get("/n", (req, res) => void res.send(String(req.session.get("n") ?? "none")));
      app.use(
        (err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).send(err.message),
      );
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

    it("puts the session at req.session as an ordinary property of the request, and keeps an app's own assignment", async () => {
      const app = express();
      app.use(sessionMiddleware(suite.sessions));
      const seen: unknown[] = [];
      app.get("/count", (req, res) => {
        const own = Object.getOwnPropertyDescriptor(req, "session");
        seen.push(own !== undefined && "value" in own && own.writable === true);
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
        expect(seen).toEqual([true, true, true, true]);
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

    it("commits both sessions when two pgsession middlewares hold one response", async () => {
      const other = createSessions<AppData>({
        ...testOptions(suite.schema, pgStore(suite.pool)),
        table: "other_sessions",
        cookie: { name: "sid2" },
      });
      await other.migrate();
      const app = express();
      app.use(sessionMiddleware(suite.sessions));
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
        const names = res.headers
          .getSetCookie()
          .map((line) => line.split("=", 1)[0])
          .sort();
        expect(names).toEqual(["sid", "sid2"]);
        const stored = async (table: string) =>
          (await suite.pool.query(`SELECT data FROM ${suite.schema}.${table}`)).rows.map((row) => row.data.count);
        expect(await stored("sessions")).toContain(1);
        expect(await stored("other_sessions")).toEqual([2]);
      } finally {
        await close();
      }
    });

    it("holds a response around an app's own override on express.response", async () => {
      const calls: string[] = [];
      // Not chaining to what it replaced: straight to Node's own end.
      express.response.end = function (this: ServerResponse, ...args: unknown[]) {
        calls.push("app's end");
        return (NodeServerResponse.prototype.end as (...a: unknown[]) => ServerResponse).apply(this, args);
      } as typeof express.response.end;
      try {
        const app = express();
        app.use(sessionMiddleware(suite.sessions));
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
        delete (express.response as { end?: unknown }).end;
      }
    });

    it("holds a response whose writeHead another middleware wrapped, on the response itself", async () => {
      const app = express();
      app.use(wrapsWriteHead);
      app.use(sessionMiddleware(suite.sessions));
      let own: string[] = [];
      app.post("/inc", (req, res) => {
        req.session.set("count", 1);
        own = ["writeHead", "write", "end", "flushHeaders"].filter((name) => Object.hasOwn(res, name));
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
