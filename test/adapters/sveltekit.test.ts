/**
 * pgsession/sveltekit: the handle called as SvelteKit calls it, with a RequestEvent built
 * from a Request and a `resolve` that answers as SvelteKit's does.
 *
 * Why that is faithful: the handle reads `event.request` (method, URL, headers),
 * `event.getClientAddress()` and `event.locals`, and passes the event to `resolve`, whose
 * Response it gets back; nothing else of SvelteKit reaches it. SvelteKit's `resolve` runs
 * the route with that same event (so `locals.session` is the handle's) and always returns a
 * Response: `redirect()` becomes a redirect, `error()` its status, any other error its own
 * 500 page (it never reaches the handle), and `cookies.set()` and `setHeaders()` are
 * applied to the Response it builds. `kitResolve` below does exactly those things, with
 * SvelteKit's own `redirect`, `error`, `isRedirect` and `isHttpError`. What a real build
 * adds (routing, form actions, adapter-node's server) is covered over HTTP by
 * test/package/sveltekit-example.test.ts.
 */
import { error, isHttpError, isRedirect, redirect, type Cookies, type RequestEvent } from "@sveltejs/kit";
import { describe, expect, it } from "vitest";
import { SessionConfigError } from "../../src/errors.js";
import type { Sessions } from "../../src/index.js";
import { sessionHandle, type SessionLocals } from "../../src/adapters/sveltekit.js";
import { parseSetCookie } from "./client.js";
import { runAdapterContract, suiteSessions } from "./contract.js";
import { handleRoute, type AppData } from "./routes.js";

type Route = (event: RequestEvent) => Promise<Response>;

/** What the route set through `event.cookies` and `event.setHeaders`, applied by `kitResolve`. */
interface Pending {
  cookies: string[];
  headers: Record<string, string>;
}

/** A RequestEvent for `request`, as SvelteKit builds it (the parts a handle or route uses here). */
function requestEvent(request: Request, pending: Pending, clientAddress: () => string): RequestEvent {
  const cookies: Partial<Cookies> = {
    get: (name) => new RegExp(`(?:^|;\\s*)${name}=([^;]*)`).exec(request.headers.get("cookie") ?? "")?.[1],
    set: (name, value, options) => void pending.cookies.push(`${name}=${value}; Path=${options.path}`),
  };
  const event: Partial<RequestEvent> = {
    request,
    url: new URL(request.url),
    locals: {},
    params: {},
    cookies: cookies as Cookies,
    getClientAddress: clientAddress,
    setHeaders: (headers) => void Object.assign(pending.headers, headers),
    isDataRequest: false,
    isSubRequest: false,
  };
  return event as RequestEvent;
}

/** SvelteKit's `resolve`, as far as the handle can tell: runs `route`, answers its errors, applies its cookies and headers. */
function kitResolve(route: Route, pending: Pending): (event: RequestEvent) => Promise<Response> {
  return async (event) => {
    let response: Response;
    try {
      response = await route(event);
    } catch (err) {
      if (isRedirect(err)) response = new Response(null, { status: err.status, headers: { location: err.location } });
      else if (isHttpError(err)) response = Response.json(err.body, { status: err.status });
      else response = new Response("Internal Error", { status: 500 });
    }
    for (const [name, value] of Object.entries(pending.headers)) response.headers.set(name, value);
    for (const line of pending.cookies) response.headers.append("set-cookie", line);
    return response;
  };
}

/** A fetch-style function calling `sessionHandle(sessions, ...)` with `route` behind it. */
function serveHandle(
  sessions: Sessions<AppData>,
  route: Route,
  clientAddress: () => string = () => "127.0.0.1",
  options: Parameters<typeof sessionHandle>[1] = {},
): (method: string, path: string, headers?: Record<string, string>) => Promise<Response> {
  const handle = sessionHandle(sessions, options);
  return async (method, path, headers = {}) => {
    const pending: Pending = { cookies: [], headers: {} };
    const event = requestEvent(new Request(`http://localhost${path}`, { method, headers }), pending, clientAddress);
    return handle({ event, resolve: kitResolve(route, pending) });
  };
}

const sessionOf = (event: RequestEvent) => (event.locals as SessionLocals<AppData>).session;

describe("pgsession/sveltekit", () => {
  runAdapterContract("sveltekit", async (sessions) => {
    const send = serveHandle(sessions, async (event) => {
      const answer = await handleRoute(sessions, event.request.method, event.request.url, sessionOf(event));
      if (answer.cookie) event.cookies.set("other", "1", { path: "/" });
      if (answer.cacheControl) event.setHeaders({ "cache-control": answer.cacheControl });
      return Response.json(answer.body, { status: answer.status });
    });
    return { send: (method, path, headers) => send(method, path, headers), close: async () => {} };
  });
});

describe("pgsession/sveltekit with SvelteKit's answers", () => {
  const suite = suiteSessions("sveltekit_answers");

  it("sends the new cookie with the redirect() that follows a login", async () => {
    const send = serveHandle(suite.sessions, async (event) => {
      await sessionOf(event).login("alice");
      redirect(303, "/account");
    });
    const response = await send("POST", "/login");
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/account");
    const [line, ...more] = response.headers.getSetCookie();
    expect(more).toEqual([]);
    expect(parseSetCookie(line as string)).toMatchObject({ name: "sid", value: expect.stringMatching(/^[\w-]{43}$/) });
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("keeps the status of an error() and commits what the route stored before it", async () => {
    const send = serveHandle(suite.sessions, async (event) => {
      sessionOf(event).set("count", 1);
      error(404, "no such page");
    });
    const response = await send("GET", "/missing");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: "no such page" });
    expect(response.headers.getSetCookie()).toHaveLength(1);
  });

  it("adds the cookie to an endpoint's Response whose headers are immutable", async () => {
    const send = serveHandle(suite.sessions, async (event) => {
      sessionOf(event).set("count", 1);
      return Response.redirect("http://localhost/next", 307);
    });
    const response = await send("POST", "/api");
    expect(response.status).toBe(307);
    expect(response.headers.get("location")).toBe("http://localhost/next");
    expect(response.headers.getSetCookie()).toHaveLength(1);
  });

  it("records getClientAddress() as the session's ip, and X-Forwarded-For only behind trustProxy", async () => {
    const login = (user: string) => async (event: RequestEvent) => {
      await sessionOf(event).login(user);
      return new Response("ok");
    };
    const forwarded = { "x-forwarded-for": "203.0.113.9" };
    await serveHandle(suite.sessions, login("ip-direct"), () => "198.51.100.7")("POST", "/login", forwarded);
    await serveHandle(suite.sessions, login("ip-proxied"), () => "10.0.0.2", { trustProxy: true })("POST", "/login", forwarded);
    expect((await suite.sessions.listUserSessions("ip-direct")).map((s) => s.ip)).toEqual(["198.51.100.7"]);
    expect((await suite.sessions.listUserSessions("ip-proxied")).map((s) => s.ip)).toEqual(["203.0.113.9"]);
  });

  it("serves a prerendered page, where getClientAddress() throws, without reading or writing a session", async () => {
    const send = serveHandle(
      suite.sessions,
      async (event) => new Response(`new: ${sessionOf(event).isNew}`),
      () => {
        throw new Error("Cannot call getClientAddress() during prerendering");
      },
    );
    const response = await send("GET", "/about");
    expect(await response.text()).toBe("new: true");
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("passes on a 500 the app answered itself when no session method failed", async () => {
    const send = serveHandle(suite.sessions, async () => {
      throw new Error("a bug in a load function");
    });
    const response = await send("GET", "/");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Error");
  });

  it("refuses unknown options when created", () => {
    expect(() => sessionHandle(suite.sessions, { trustproxy: true } as never)).toThrow(SessionConfigError);
  });
});
