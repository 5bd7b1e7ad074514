/** The floor on Koa 3: the node:http floor's queries behind one Koa middleware. */
import { createServer } from "node:http";
import Koa from "koa";
import { announceReady, cookieValue, createPool, readServerEnv, startControl } from "./common.js";
import { createFloorDb, newSessionData } from "./floor-db.js";

const env = readServerEnv();
const pool = createPool(env);
const db = await createFloorDb(pool, env);
startControl(env, pool);

const app = new Koa();
app.use(async (ctx) => {
  const path = ctx.path;
  if (path === "/login") {
    const id = await db.create(newSessionData());
    ctx.cookies.set("sid", id, { httpOnly: true, sameSite: "lax", maxAge: 86_400_000 });
    ctx.body = "ok";
    return;
  }
  if (path !== "/read" && path !== "/write") return;
  const id = cookieValue(ctx.req.headers.cookie, "sid");
  const data = id ? await db.read(id) : null;
  if (!id || !data) {
    ctx.status = 401;
    ctx.body = "no session";
    return;
  }
  if (path === "/write") {
    data.n += 1;
    await db.update(id, data);
  }
  ctx.body = String(data.n);
});
createServer(app.callback()).listen(env.port, "127.0.0.1", () => announceReady("floor-koa"));
