/**
 * pgsession/react-router through React Router's own request handler (`createRequestHandler`
 * on a small server build of resource routes, served over HTTP on loopback): the adapter
 * contract, then React Router's session semantics (flash, has/unset, destroySession,
 * isSession) and what `commitSession` returns for a visitor who stored nothing.
 */
import { createServer } from "node:http";
import { Readable } from "node:stream";
import { createRequestHandler, createSession, isSession, type ServerBuild, type SessionStorage } from "react-router";
import { describe, expect, expectTypeOf, it } from "vitest";
import { createPgSessionStorage, pgSessionOf, UNCHANGED_COOKIE, type PgSessionStorage } from "../../src/adapters/react-router.js";
import { SessionConfigError, SessionStoreError } from "../../src/errors.js";
import { createSessions, type Session, type Sessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { hashToken } from "../../src/session/token.js";
import { hasPostgres } from "../support/db.js";
import { Browser, closedPort, httpSend, listen, parseSetCookie } from "./client.js";
import { runAdapterContract, suiteSessions, testOptions } from "./contract.js";
import { handleRoute, type AppData } from "./routes.js";

type Handler = (args: { request: Request }) => Response | Promise<Response>;
type RouteModule = NonNullable<ServerBuild["routes"][string]>["module"];

/** A server build as `react-router build` would emit it, of resource routes only (no document to render). */
function serverBuild(routes: Record<string, Omit<RouteModule, "default">>): ServerBuild {
  const manifest: ServerBuild["routes"] = {};
  // Resource routes: modules without a component (React Router's type has one for every route module).
  for (const [path, module] of Object.entries(routes)) manifest[path] = { id: path, path, module: module as RouteModule };
  return {
    entry: { module: { default: () => new Response("no document routes here", { status: 500 }) } },
    routes: manifest,
    assets: { entry: { imports: [], module: "" }, routes: {}, url: "", version: "test" },
    publicPath: "/",
    assetsBuildDirectory: "",
    future: { v8_middleware: false } as ServerBuild["future"],
    ssr: true,
    isSpaMode: false,
    prerender: [],
    routeDiscovery: { mode: "lazy", manifestPath: "/__manifest" },
  };
}

/** Serves a server build with React Router's request handler on node:http, on a loopback port. */
async function serveBuild(build: ServerBuild): Promise<{ base: string; close(): Promise<void> }> {
  const handler = createRequestHandler(build);
  const server = createServer((req, res) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) for (const v of [value ?? []].flat()) headers.append(name, v);
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : (Readable.toWeb(req) as ReadableStream);
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers,
      body,
      duplex: "half",
    } as RequestInit);
    handler(request).then(
      async (response) => {
        res.writeHead(response.status, [...response.headers].flat());
        res.end(Buffer.from(await response.arrayBuffer()));
      },
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  return listen(server);
}

/** The contract's routes, each one a loader and an action of one splat route. */
function contractBuild(sessions: Sessions<AppData>): ServerBuild {
  const storage = createPgSessionStorage(sessions);
  const handle: Handler = async ({ request }) => {
    try {
      const session = await storage.getSession(request);
      const answer = await handleRoute(sessions, request.method, request.url, pgSessionOf(session) as Session<AppData>);
      const headers = await storage.commitHeaders(session, answer.cacheControl ? { "Cache-Control": answer.cacheControl } : undefined);
      if (answer.cookie) headers.append("Set-Cookie", answer.cookie);
      return Response.json(answer.body, { status: answer.status, headers });
    } catch (err) {
      throw (await storage.failureResponse(err, request)) ?? err;
    }
  };
  return serverBuild({ "*": { loader: handle, action: handle } });
}

/** Routes written as React Router's docs write them: getSession, the session's methods, commitSession in a Set-Cookie header. */
function idiomaticBuild(storage: PgSessionStorage): ServerBuild {
  const { getSession, commitSession, destroySession } = storage;
  const json = async (session: Awaited<ReturnType<typeof getSession>>, body: object) =>
    Response.json(body, { headers: { "Set-Cookie": await commitSession(session) } });
  const param = (request: Request, name: string) => new URL(request.url).searchParams.get(name) ?? "";
  return serverBuild({
    read: {
      loader: async ({ request }) => {
        const session = await getSession(request.headers.get("Cookie"));
        const message = session.get("message") ?? null;
        return json(session, { id: session.id, message, isSession: isSession(session), data: session.data });
      },
    },
    flash: {
      action: async ({ request }) => {
        const session = await getSession(request);
        session.flash("message", param(request, "m"));
        return json(session, { has: session.has("message") });
      },
    },
    set: {
      action: async ({ request }) => {
        const session = await getSession(request);
        session.set(param(request, "key"), param(request, "value"));
        return json(session, { has: session.has(param(request, "key")) });
      },
    },
    unset: {
      action: async ({ request }) => {
        const session = await getSession(request);
        session.unset(param(request, "key"));
        return json(session, { has: session.has(param(request, "key")) });
      },
    },
    login: {
      action: async ({ request }) => {
        const session = await getSession(request);
        await pgSessionOf(session).login(param(request, "user"));
        session.flash("message", "Signed in");
        return json(session, { user: pgSessionOf(session).userId });
      },
    },
    logout: {
      action: async ({ request }) => {
        const session = await getSession(request);
        return Response.json({ ok: true }, { headers: { "Set-Cookie": await destroySession(session) } });
      },
    },
  });
}

describe("pgsession/react-router", () => {
  runAdapterContract("react-router", async (sessions) => {
    const { base, close } = await serveBuild(contractBuild(sessions));
    return { send: httpSend(base), close };
  });
});

describe.skipIf(!hasPostgres)("pgsession/react-router: React Router's session semantics", () => {
  const suite = suiteSessions("react_router");
  const rowCount = async () => (await suite.pool.query(`SELECT count(*)::int AS n FROM ${suite.schema}.sessions`)).rows[0].n as number;
  const stored = async (token: string) =>
    (await suite.pool.query(`SELECT data FROM ${suite.schema}.sessions WHERE token_hash = decode($1, 'hex')`, [hashToken(token)])).rows[0]
      ?.data as Record<string, unknown> | undefined;
  const withApp = async (test: (browser: Browser) => Promise<void>) => {
    const { base, close } = await serveBuild(idiomaticBuild(createPgSessionStorage(suite.sessions)));
    try {
      await test(new Browser(httpSend(base), "sid"));
    } finally {
      await close();
    }
  };

  it("stores nothing for a visitor who stored nothing, and answers commitSession with a cookie that changes nothing", async () => {
    await withApp(async (b) => {
      const before = await rowCount();
      const read = await b.request("GET", "/read");
      expect(read.body).toEqual({ id: "", message: null, isSession: true, data: {} });
      expect(read.setCookies).toEqual([UNCHANGED_COOKIE]);
      expect(parseSetCookie(UNCHANGED_COOKIE)).toMatchObject({ name: "pgsession-unchanged", value: "", "max-age": "0" });
      expect(b.cookie).toBeNull();
      expect(await rowCount()).toBe(before);
      // A stored session that changed nothing: the same cookie-free answer, never its token again.
      await b.request("POST", "/set?key=a&value=1");
      const token = b.cookie as string;
      const again = await b.request("GET", "/read");
      expect(again.setCookies).toEqual([UNCHANGED_COOKIE]);
      expect(again.body.id).toHaveLength(24); // the public id, not the token
      expect(b.cookie).toBe(token);
    });
  });

  it("reads a flash value once: the read deletes it in the database", async () => {
    await withApp(async (b) => {
      const flashed = await b.request("POST", "/flash?m=hello");
      expect(flashed.body).toEqual({ has: true });
      expect(b.cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await stored(b.cookie as string)).toEqual({ __flash_message__: "hello" });
      expect((await b.request("GET", "/read")).body).toMatchObject({ message: "hello", data: {} });
      expect(await stored(b.cookie as string)).toEqual({});
      expect((await b.request("GET", "/read")).body).toMatchObject({ message: null });
    });
  });

  it("has, set and unset, each persisted", async () => {
    await withApp(async (b) => {
      expect((await b.request("POST", "/set?key=color&value=blue")).body).toEqual({ has: true });
      expect((await b.request("GET", "/read")).body.data).toEqual({ color: "blue" });
      expect((await b.request("POST", "/unset?key=color")).body).toEqual({ has: false });
      expect((await b.request("GET", "/read")).body.data).toEqual({});
      expect(await stored(b.cookie as string)).toEqual({});
    });
  });

  it("logs in through pgSessionOf with a new token; destroySession ends the session and clears the cookie", async () => {
    await withApp(async (b) => {
      await b.request("POST", "/set?key=cart&value=3");
      const anonymous = b.cookie as string;
      expect((await b.request("POST", "/login?user=alice")).body).toEqual({ user: "alice" });
      const signedIn = b.cookie as string;
      expect(signedIn).not.toBe(anonymous);
      expect(await stored(anonymous)).toBeUndefined();
      expect((await b.request("GET", "/read")).body).toMatchObject({ message: "Signed in", data: { cart: "3" } });
      const out = await b.request("POST", "/logout");
      expect(parseSetCookie(out.setCookies[0] as string)).toMatchObject({ name: "sid", value: "", "max-age": "0" });
      expect(b.cookie).toBeNull();
      expect(await stored(signedIn)).toBeUndefined();
      const thief = new Browser(b.send, "sid");
      thief.cookie = signedIn;
      expect((await thief.request("GET", "/read")).body).toMatchObject({ id: "", data: {} });
      // A visitor with no session gets a clearing cookie too: destroySession always names one.
      const nobody = await new Browser(b.send, "sid").request("POST", "/logout");
      expect(parseSetCookie(nobody.setCookies[0] as string)).toMatchObject({ name: "sid", "max-age": "0" });
    });
  });

  it("writes only the keys each request changed: two requests on one session keep each other's", async () => {
    const { getSession, commitSession } = createPgSessionStorage(suite.sessions);
    const first = await getSession(null);
    first.set("base", 1);
    const cookie = parseSetCookie(await commitSession(first));
    const header = `sid=${cookie.value}`;
    const [a, b] = await Promise.all([getSession(header), getSession(header)]);
    a.set("a", [1]);
    b.set("b", { x: true });
    b.unset("base");
    expect(await commitSession(a)).toBe(UNCHANGED_COOKIE);
    expect(await commitSession(b)).toBe(UNCHANGED_COOKIE);
    expect((await getSession(header)).data).toEqual({ a: [1], b: { x: true } });
    // A value changed in place is seen, as React Router's own storages see it.
    const c = await getSession(header);
    (c.get("a") as number[]).push(2);
    await commitSession(c);
    expect((await getSession(header)).get("a")).toEqual([1, 2]);
  });

  it("are React Router's sessions; a session from elsewhere is refused", async () => {
    const storage = createPgSessionStorage(suite.sessions);
    const session = await storage.getSession(undefined);
    expect(isSession(session)).toBe(true);
    await expect(storage.commitSession(createSession({ a: 1 }))).rejects.toThrow(TypeError);
    expect(() => pgSessionOf({})).toThrow(TypeError);
    await expect(storage.getSession(42 as never)).rejects.toThrow(TypeError);
  });

  it("decides Secure from the Request; given only a cookie header, the request counts as not secure", async () => {
    const storage = createPgSessionStorage(suite.sessions);
    const overHttps = await storage.getSession(new Request("https://example.com/"));
    overHttps.set("k", 1);
    expect(parseSetCookie(await storage.commitSession(overHttps))).toHaveProperty("secure");
    const fromHeader = await storage.getSession("other=1");
    fromHeader.set("k", 1);
    expect(parseSetCookie(await storage.commitSession(fromHeader))).not.toHaveProperty("secure");
  });

  it("records the client's address and user agent from the Request, or the address the server passes", async () => {
    const storage = createPgSessionStorage(suite.sessions);
    const request = new Request("http://127.0.0.1/", { headers: { "user-agent": "rr-test/1" } });
    const session = await storage.getSession(request, { ip: "203.0.113.7" });
    await pgSessionOf(session).login("rr-context");
    await storage.commitSession(session);
    const [listed] = await suite.sessions.listUserSessions("rr-context");
    expect(listed).toMatchObject({ ip: "203.0.113.7", userAgent: "rr-test/1" });
  });

  it("is typed as React Router's SessionStorage, with the app's data and flash types", async () => {
    const storage: SessionStorage<{ visits: number }, { message: string }> = createPgSessionStorage<
      { visits: number },
      { message: string }
    >(suite.sessions);
    const session = await storage.getSession();
    session.set("visits", 1);
    session.flash("message", "hi");
    expectTypeOf(session.get("visits")).toEqualTypeOf<number | undefined>();
    expectTypeOf(session.get("message")).toEqualTypeOf<string | undefined>();
    // @ts-expect-error a key the data does not have
    session.set("nope", 1);
    // get("message") above read the flash value: gone from the data now.
    expect(session.data).toEqual({ visits: 1, nope: 1 });
  });

  it("validates its options", () => {
    expect(() => createPgSessionStorage(suite.sessions, { cookie: {} } as never)).toThrow(SessionConfigError);
    expect(() => createPgSessionStorage(suite.sessions, { onStoreError: 1 } as never)).toThrow(SessionConfigError);
    expect(() => createPgSessionStorage({} as never)).toThrow(SessionConfigError);
  });

  it("rejects with SessionStoreError when the database is down, and hands out no cookie", async () => {
    const port = await closedPort();
    const store = pgStore({
      connectionString: `postgres://postgres@127.0.0.1:${port}/test`,
      connectionTimeoutMillis: 2000,
      onError: () => {},
    });
    const down = createSessions(testOptions(suite.schema, store));
    try {
      const storage = createPgSessionStorage(down);
      await expect(storage.getSession(`sid=${"A".repeat(43)}`)).rejects.toThrow(SessionStoreError);
      const request = new Request("http://127.0.0.1/");
      const session = await storage.getSession(request);
      session.set("k", 1);
      const err = await storage.commitSession(session).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SessionStoreError);
      const answer = (await storage.failureResponse(err, request)) as Response;
      expect(answer.status).toBe(503);
      expect(answer.headers.getSetCookie()).toEqual([]);
      expect(await storage.failureResponse(new Error("other"), request)).toBeNull();
    } finally {
      await down.close();
    }
  });
});
