/** The floor on h3 2: the node:http floor's queries behind h3 routing, served by h3's Node handler. */
import { createServer } from "node:http";
import { H3, setCookie, toNodeHandler } from "h3";
import { announceReady, cookieValue, createPool, readServerEnv, startControl } from "./common.js";
import { createFloorDb, newSessionData } from "./floor-db.js";

const env = readServerEnv();
const pool = createPool(env);
const db = await createFloorDb(pool, env);
startControl(env, pool);

const app = new H3();
app.get("/login", async (event) => {
  const id = await db.create(newSessionData());
  setCookie(event, "sid", id, { httpOnly: true, sameSite: "lax", maxAge: 86_400 });
  return "ok";
});
for (const write of [false, true]) {
  app.get(write ? "/write" : "/read", async (event) => {
    const id = cookieValue(event.req.headers.get("cookie") ?? undefined, "sid");
    const data = id ? await db.read(id) : null;
    if (!id || !data) {
      event.res.status = 401;
      return "no session";
    }
    if (write) {
      data.n += 1;
      await db.update(id, data);
    }
    return String(data.n);
  });
}
createServer(toNodeHandler(app)).listen(env.port, "127.0.0.1", () => announceReady("floor-h3"));
