/**
 * pgsession with React Router 7: `npm run example:react-router`, then open http://127.0.0.1:3000
 *
 * The routes are resource routes (loaders and actions answering with a Response) of a
 * server build written by hand, so that this file runs without a bundler. In an app built
 * with `react-router build`, the same loader and action code sits in route modules, and
 * `getSession`, `commitSession` and `destroySession` are the lines that change.
 */
import { createRequestHandler, redirect, type ServerBuild } from "react-router";
import { createPgSessionStorage, pgSessionOf } from "pgsession/react-router";
import { escapeHtml, exampleSessions, loginName, page, refusal, serveFetch, type ExampleData } from "./shared.js";

const sessions = await exampleSessions();
// Flash values live in the session until read once: here the welcome after a login.
const { getSession, commitSession, destroySession, failureResponse } = createPgSessionStorage<ExampleData, { message: string }>(sessions);

type Handler = (args: { request: Request }) => Promise<Response>;

/** A loader or action whose session failures answer as pgsession answers them (503, 409). */
function guarded(handler: (request: Request) => Promise<Response>): Handler {
  return async ({ request }) => {
    try {
      return await handler(request);
    } catch (err) {
      throw (await failureResponse(err, request)) ?? err;
    }
  };
}

const home = guarded(async (request) => {
  const session = await getSession(request);
  const message = session.get("message"); // a flash value: gone once read, and the commit stores that
  const html = page({ userId: pgSessionOf(session).userId, get: () => session.get("visits") });
  return new Response(message ? `${html}\n<p role="status">${escapeHtml(message)}</p>` : html, {
    headers: { "Content-Type": "text/html; charset=utf-8", "Set-Cookie": await commitSession(session) },
  });
});

const count = guarded(async (request) => {
  const session = await getSession(request);
  session.set("visits", (session.get("visits") ?? 0) + 1);
  return redirect("/", { status: 303, headers: { "Set-Cookie": await commitSession(session) } });
});

const login = guarded(async (request) => {
  const session = await getSession(request);
  const name = loginName((await request.formData()).get("name"));
  // pgsession's login: a new token and the user bound, so a token from before is worthless.
  await pgSessionOf(session).login(name);
  session.flash("message", `Welcome, ${name}.`);
  return redirect("/", { status: 303, headers: { "Set-Cookie": await commitSession(session) } });
});

const logout = guarded(async (request) => {
  const session = await getSession(request);
  return redirect("/", { status: 303, headers: { "Set-Cookie": await destroySession(session) } });
});

type RouteModule = NonNullable<ServerBuild["routes"][string]>["module"];
/** A resource route's module: no component (React Router's type has one for every route module). */
const resource = (module: Omit<RouteModule, "default">) => module as RouteModule;

const routes: ServerBuild["routes"] = {
  home: { id: "home", path: "/", module: resource({ loader: home }) },
  count: { id: "count", path: "/count", module: resource({ action: count }) },
  login: { id: "login", path: "/login", module: resource({ action: login }) },
  logout: { id: "logout", path: "/logout", module: resource({ action: logout }) },
};

const handler = createRequestHandler({
  entry: { module: { default: () => new Response("Not Found", { status: 404 }) } },
  routes,
  assets: { entry: { imports: [], module: "" }, routes: {}, url: "", version: "1" },
  publicPath: "/",
  assetsBuildDirectory: "",
  future: { v8_middleware: false } as ServerBuild["future"],
  ssr: true,
  isSpaMode: false,
  prerender: [],
  routeDiscovery: { mode: "lazy", manifestPath: "/__manifest" },
});

serveFetch((request) => {
  const refused = refusal(request.method, request.headers, new URL(request.url).origin);
  if (refused) return new Response(refused.text, { status: refused.status });
  return handler(request);
}, "react-router");
