/**
 * Compile-only checks (run by `tsc --noEmit`, never executed): each adapter's types reach
 * the framework's request objects through declaration merging. No `Register` here (it would
 * apply to the whole repository's program): test/package/tarball.test.ts type-checks apps
 * that register their data, against the packed package.
 */
import express from "express";
import Fastify from "fastify";
import { H3 } from "h3";
import { Hono } from "hono";
import Koa from "koa";
import { sessionMiddleware as expressSessions } from "../../src/adapters/express.js";
import { pgsessionPlugin } from "../../src/adapters/fastify.js";
import { withSession as fetchSession } from "../../src/adapters/fetch.js";
import { sessionMiddleware as h3Sessions, usePgSession } from "../../src/adapters/h3.js";
import { sessionMiddleware as honoSessions, type SessionVariables } from "../../src/adapters/hono.js";
import { sessionMiddleware as koaSessions, type SessionContext } from "../../src/adapters/koa.js";
import { withSession as nodeSession } from "../../src/adapters/node.js";
import type { Session } from "../../src/session/session.js";
import { createSessions } from "../../src/index.js";

type Visits = { visits: number };
const sessions = createSessions<Visits>();
const expectType = <T>(_value: T): void => {};

const app = express();
app.use(expressSessions(sessions));
app.get("/", (req, res) => {
  expectType<Session<Record<string, unknown>>>(req.session);
  // @ts-expect-error the session is not a string
  expectType<string>(req.session);
  res.end();
});

const fastify = Fastify();
void fastify.register(pgsessionPlugin, { sessions });
fastify.get("/", async (request) => {
  expectType<string | null>(request.session.userId);
  return { id: request.session.id };
});

const hono = new Hono<{ Variables: SessionVariables<Visits> }>();
hono.use(honoSessions(sessions));
hono.get("/", (c) => {
  const visits: number | undefined = c.get("session").get("visits");
  // @ts-expect-error a key the data does not have
  c.get("session").get("nope");
  return c.text(String(visits));
});
// Without Variables, c.get("session") is still typed (ContextVariableMap).
new Hono().get("/", (c) => c.text(c.get("session").id));

const handler = fetchSession(sessions, async (_request, session, context: { params: { id: string } }) => {
  expectType<number | undefined>(session.get("visits"));
  return Response.json({ id: context.params.id });
});
expectType<(request: Request, context: { params: { id: string } }) => Promise<Response>>(handler);

nodeSession(sessions, (_req, res, session) => {
  session.set("visits", 1);
  // @ts-expect-error visits is a number
  session.set("visits", "one");
  res.end();
});

// Koa: ctx.session through DefaultContext (the registered data), or one app's data through SessionContext.
const koa = new Koa();
koa.use(koaSessions(sessions));
koa.use((ctx) => {
  expectType<Session<Record<string, unknown>>>(ctx.session);
  // @ts-expect-error the session is not a string
  expectType<string>(ctx.session);
});
const typedKoa = new Koa<Koa.DefaultState, SessionContext<Visits>>();
typedKoa.use(koaSessions(sessions));
typedKoa.use((ctx) => {
  const visits: number | undefined = ctx.session.get("visits");
  // @ts-expect-error a key the data does not have
  ctx.session.get("nope");
  ctx.body = String(visits);
});

// h3: usePgSession(event), typed by Register or by its type argument.
const h3 = new H3();
h3.use(h3Sessions(sessions));
h3.get("/", (event) => {
  const visits: number | undefined = usePgSession<Visits>(event).get("visits");
  // @ts-expect-error a key the data does not have
  usePgSession<Visits>(event).get("nope");
  expectType<Session<Record<string, unknown>>>(usePgSession(event));
  return String(visits);
});
