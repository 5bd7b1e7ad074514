/** The floor on Fastify 5: the node:http floor's queries behind Fastify routing. */
import Fastify from "fastify";
import { announceReady, cookieValue, createPool, readServerEnv, startControl } from "./common.js";
import { createFloorDb, newSessionData } from "./floor-db.js";

const env = readServerEnv();
const pool = createPool(env);
const db = await createFloorDb(pool, env);
startControl(env, pool);

const app = Fastify({ logger: false });
app.get("/login", async (_request, reply) => {
  const id = await db.create(newSessionData());
  reply.header("set-cookie", `sid=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400`);
  return "ok";
});
for (const write of [false, true]) {
  app.get(write ? "/write" : "/read", async (request, reply) => {
    const id = cookieValue(request.headers.cookie, "sid");
    const data = id ? await db.read(id) : null;
    if (!id || !data) return reply.code(401).send("no session");
    if (write) {
      data.n += 1;
      await db.update(id, data);
    }
    return String(data.n);
  });
}
await app.listen({ port: env.port, host: "127.0.0.1" });
announceReady("floor-fastify");
