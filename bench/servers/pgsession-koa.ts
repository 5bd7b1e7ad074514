/** pgsession with its Koa adapter (`sessionMiddleware`). */
import { createServer } from "node:http";
import Koa from "koa";
import { sessionMiddleware } from "../../src/adapters/koa.js";
import { announceReady, createPool, readServerEnv, startControl } from "./common.js";
import { createBenchSessions, handleRoute } from "./pgsession-setup.js";
import type { BenchData } from "./floor-db.js";
import type { Session } from "../../src/index.js";

const env = readServerEnv();
const pool = createPool(env);
const sessions = await createBenchSessions(pool, env);
startControl(env, pool);

const ROUTES = new Set(["/login", "/read", "/write"]);
const app = new Koa();
app.use(sessionMiddleware(sessions));
app.use((ctx) => {
  const path = ctx.path;
  if (!ROUTES.has(path)) return;
  const { status, body } = handleRoute(path, ctx.session as unknown as Session<BenchData>);
  // As the Koa floor answers: ctx.status only for a failure.
  if (status !== 200) ctx.status = status;
  ctx.body = body;
});
createServer(app.callback()).listen(env.port, "127.0.0.1", () => announceReady("pgsession-koa"));
