/**
 * Issue 37, point 6: behind a TLS proxy the cookie keeps `Secure`. With no `trustProxy` in
 * pgsession, the Express and Fastify adapters follow the framework's own setting (Express's
 * `trust proxy`: `req.secure`, `req.ip`; Fastify's `trustProxy`); with one, pgsession reads
 * the forwarded headers itself and takes the entries its trusted proxies added (the
 * right-most), never the client's own left-most claim.
 */
import { createServer } from "node:http";
import express from "express";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { sessionMiddleware } from "../../src/adapters/express.js";
import { pgsessionPlugin } from "../../src/adapters/fastify.js";
import type { Sessions } from "../../src/index.js";
import type { SessionData } from "../../src/session/session.js";
import { hasPostgres } from "../support/db.js";
import { httpSend, listen, parseSetCookie } from "./client.js";
import { suiteSessions } from "./contract.js";

type Serve = (sessions: Sessions<SessionData>) => Promise<{ base: string; close(): Promise<void> }>;

/** Logs in over the app; the login's Set-Cookie attributes and the ip pgsession recorded. */
async function loginThrough(serve: Serve, sessions: Sessions<SessionData>, user: string, headers: Record<string, string>) {
  const app = await serve(sessions);
  try {
    const response = await httpSend(app.base)("POST", `/login?user=${user}`, headers);
    expect(response.status).toBe(200);
    const cookie = parseSetCookie(response.headers.getSetCookie()[0] ?? "");
    const [listed] = await sessions.listUserSessions(user, { audience: null });
    return { secure: "secure" in cookie, ip: listed?.ip ?? null };
  } finally {
    await app.close();
  }
}

const expressApp =
  (trust: boolean | number | undefined, adapterTrust?: boolean | number): Serve =>
  async (sessions) => {
    const app = express();
    if (trust !== undefined) app.set("trust proxy", trust);
    app.use(sessionMiddleware(sessions, adapterTrust === undefined ? {} : { trustProxy: adapterTrust }));
    app.post("/login", async (req, res) => {
      await req.session.login(String(req.query.user));
      res.json({ ok: true });
    });
    return listen(createServer(app));
  };

const fastifyApp =
  (trust: string | undefined): Serve =>
  async (sessions) => {
    const app = Fastify(trust === undefined ? {} : { trustProxy: trust });
    await app.register(pgsessionPlugin, { sessions });
    app.post<{ Querystring: { user: string } }>("/login", async (request) => {
      await request.session.login(request.query.user);
      return { ok: true };
    });
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    return { base, close: () => app.close() };
  };

const viaProxy = { "x-forwarded-proto": "https", "x-forwarded-for": "6.6.6.6, 203.0.113.9" };

describe.skipIf(!hasPostgres)("trust proxy", () => {
  const suite = suiteSessions<SessionData>("trust_proxy", (schema, store) => ({ store, schema }));

  it("Express: follows the app's trust proxy setting when pgsession has none", async () => {
    expect(await loginThrough(expressApp(1), suite.sessions, "e1", viaProxy)).toEqual({ secure: true, ip: "203.0.113.9" });
    expect(await loginThrough(expressApp(undefined), suite.sessions, "e2", viaProxy)).toEqual({ secure: false, ip: "127.0.0.1" });
  });

  it("Fastify: follows its trustProxy option when pgsession has none", async () => {
    expect(await loginThrough(fastifyApp("127.0.0.1"), suite.sessions, "f1", viaProxy)).toEqual({ secure: true, ip: "203.0.113.9" });
    expect(await loginThrough(fastifyApp(undefined), suite.sessions, "f2", viaProxy)).toEqual({ secure: false, ip: "127.0.0.1" });
  });

  it("pgsession's own trustProxy wins, and takes the right-most hop, not the client's claim", async () => {
    // Express trusts nothing here; the adapter option says one proxy.
    expect(await loginThrough(expressApp(undefined, true), suite.sessions, "p1", viaProxy)).toEqual({ secure: true, ip: "203.0.113.9" });
    expect(await loginThrough(expressApp(true, false), suite.sessions, "p2", viaProxy)).toEqual({ secure: false, ip: "127.0.0.1" });
    expect(await loginThrough(expressApp(undefined, 2), suite.sessions, "p3", viaProxy)).toMatchObject({ ip: "6.6.6.6" });
  });

  it("refuses a trustProxy that is not a boolean or a hop count", () => {
    expect(() => sessionMiddleware(suite.sessions, { trustProxy: -1 })).toThrow(/trustProxy/);
    expect(() => sessionMiddleware(suite.sessions, { trustProxy: "yes" as never })).toThrow(/trustProxy/);
  });
});
