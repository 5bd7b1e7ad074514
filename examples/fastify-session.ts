/**
 * @fastify/session with pgsession's store (in place of connect-pg-simple), on the PostgreSQL
 * server at DATABASE_URL: `npm run example:fastify-session`, then open http://127.0.0.1:3000
 *
 * Only the `store:` line is pgsession's; the rest is @fastify/session as its users write it.
 * The store is handed @fastify/session as connect-pg-simple takes it, so that express-session
 * need not be installed.
 */
import Fastify from "fastify";
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import pg from "pg";
import { PgSessionStore } from "pgsession/express-session";
import { announce, HOST, loginName, page, PORT, refusal } from "./shared.js";

declare module "fastify" {
  interface Session {
    visits?: number;
    user?: string;
  }
}

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const store = new PgSessionStore({
  pool,
  session: fastifySession,
  ...(process.env.PGSESSION_SCHEMA && { schemaName: process.env.PGSESSION_SCHEMA }),
});
const app = Fastify();
app.addHook("onRequest", async (request, reply) => {
  const refused = refusal(request.method, request.headers);
  if (refused) return reply.code(refused.status).type("text/plain; charset=utf-8").send(refused.text);
});
app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
  done(null, Object.fromEntries(new URLSearchParams(body as string)));
});
await app.register(fastifyCookie);
await app.register(fastifySession, {
  secret: process.env.SESSION_SECRET ?? "an example secret of at least 32 characters",
  store,
  cookieName: "session",
  saveUninitialized: false,
  cookie: { secure: "auto", maxAge: 86_400_000 },
});
app.addHook("onClose", () => store.close());

app.get("/", async (request, reply) => {
  const { user, visits } = request.session;
  return reply.type("text/html; charset=utf-8").send(page({ userId: user ?? null, get: () => visits }));
});
app.post("/count", async (request, reply) => {
  request.session.visits = (request.session.visits ?? 0) + 1;
  return reply.redirect("/", 303);
});
app.post<{ Body: { name?: string } | undefined }>("/login", async (request, reply) => {
  // A new session id on login (against session fixation), keeping the visits.
  await request.session.regenerate(["visits"]);
  request.session.user = loginName(request.body?.name);
  return reply.redirect("/", 303);
});
app.post("/logout", async (request, reply) => {
  await request.session.destroy();
  return reply.setCookie("session", "", { path: "/", maxAge: 0 }).redirect("/", 303);
});

announce("fastify-session", await app.listen({ port: PORT, host: HOST }));
