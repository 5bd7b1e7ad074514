/**
 * Regression: pgsession's Express middleware changes nothing shared by the other Express
 * apps of the process. It used to install output methods on `express.response` and a
 * `session` accessor on `express.request`, for every app, with or without pgsession.
 */
import { createServer, ServerResponse } from "node:http";
import express from "express";
import { describe, expect, it } from "vitest";
import { hasPostgres } from "../support/db.js";
import { Browser, httpSend, listen } from "./client.js";
import { suiteSessions } from "./contract.js";

/** Every own key of `target` with its descriptor (functions compared by identity). */
const ownProperties = (target: object) => Reflect.ownKeys(target).map((key) => [key, Object.getOwnPropertyDescriptor(target, key)]);

describe.skipIf(!hasPostgres)("pgsession/express leaves Express's shared objects alone", () => {
  const suite = suiteSessions("express_globals");

  it("adds no own property to express.response or express.request, by loading, creating or serving", async () => {
    const before = { response: ownProperties(express.response), request: ownProperties(express.request) };
    // Loaded here, after the snapshot: what the module does when it loads counts too.
    const { sessionMiddleware } = await import("../../src/adapters/express.js");
    const app = express();
    app.use(sessionMiddleware(suite.sessions));
    app.post("/login", async (req, res) => {
      await req.session.login("ada");
      res.json({ ok: true });
    });
    app.post("/count", (req, res) => {
      req.session.set("count", Number(req.session.get("count") ?? 0) + 1);
      res.writeHead(200, { "content-type": "text/plain" }).end(String(req.session.get("count")));
    });
    app.get("/me", (req, res) => void res.send(String(req.session.userId)));
    const { base, close } = await listen(createServer(app));
    try {
      const b = new Browser(httpSend(base), "sid");
      expect((await b.request("POST", "/login")).status).toBe(200);
      expect((await b.request("POST", "/count")).body).toBe(1);
      expect((await b.request("GET", "/me")).body).toBe("ada");
    } finally {
      await close();
    }
    expect({ response: ownProperties(express.response), request: ownProperties(express.request) }).toEqual(before);
    expect(["writeHead", "write", "end", "flushHeaders", "headersSent"].filter((name) => Object.hasOwn(express.response, name))).toEqual(
      [],
    );
    expect(Object.hasOwn(express.request, "session")).toBe(false);
  });

  it("leaves the requests and responses of another app without pgsession as Express and node make them", async () => {
    const { sessionMiddleware } = await import("../../src/adapters/express.js");
    const withSessions = express();
    withSessions.use(sessionMiddleware(suite.sessions));
    withSessions.post("/count", (req, res) => {
      req.session.set("count", 1);
      res.send("ok");
    });
    const plain = express();
    const seen: unknown[] = [];
    plain.get("/", (req, res) => {
      seen.push(
        "session" in req,
        Object.hasOwn(res, "writeHead"),
        res.writeHead === ServerResponse.prototype.writeHead,
        res.end === ServerResponse.prototype.end,
        res.headersSent,
      );
      res.writeHead(201, { "x-plain": "yes" });
      seen.push(res.headersSent);
      res.write("a");
      res.end("b");
    });
    const one = await listen(createServer(withSessions));
    const other = await listen(createServer(plain));
    try {
      // Both apps serve in the same process, one request of each in flight together.
      const [counted, res] = await Promise.all([fetch(one.base + "/count", { method: "POST" }), fetch(other.base + "/")]);
      expect(counted.headers.getSetCookie()).toHaveLength(1);
      expect(res.status).toBe(201);
      expect(res.headers.get("x-plain")).toBe("yes");
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(await res.text()).toBe("ab");
      expect(seen).toEqual([false, false, true, true, false, true]);
    } finally {
      await one.close();
      await other.close();
    }
  });
});
