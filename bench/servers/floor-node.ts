/**
 * The floor on node:http: one primary-key SELECT per /read, a SELECT and an UPDATE per
 * /write, one INSERT per /login. What any design costs that asks the database per request.
 */
import { createServer } from "node:http";
import { announceReady, cookieValue, createPool, readServerEnv, startControl } from "./common.js";
import { createFloorDb, newSessionData } from "./floor-db.js";

const env = readServerEnv();
const pool = createPool(env);
const db = await createFloorDb(pool, env);
startControl(env, pool);

const server = createServer(async (req, res) => {
  try {
    if (req.url === "/login") {
      const id = await db.create(newSessionData());
      res
        .writeHead(200, { "content-type": "text/plain", "set-cookie": `sid=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400` })
        .end("ok");
      return;
    }
    const id = cookieValue(req.headers.cookie, "sid");
    const data = id ? await db.read(id) : null;
    if (!id || !data) return void res.writeHead(401, { "content-type": "text/plain" }).end("no session");
    if (req.url === "/write") {
      data.n += 1;
      await db.update(id, data);
    }
    res.writeHead(200, { "content-type": "text/plain" }).end(String(data.n));
  } catch (err) {
    console.error(err);
    res.writeHead(500).end();
  }
});
server.listen(env.port, "127.0.0.1", () => announceReady("floor-node"));
