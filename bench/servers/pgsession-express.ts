/** pgsession with its Express adapter (`sessionMiddleware`). */
import express from "express";
import { sessionMiddleware } from "../../src/adapters/express.js";
import { announceReady, createPool, readServerEnv, startControl } from "./common.js";
import { createBenchSessions, handleRoute } from "./pgsession-setup.js";
import type { BenchData } from "./floor-db.js";
import type { Session } from "../../src/index.js";

const env = readServerEnv();
const pool = createPool(env);
const sessions = await createBenchSessions(pool, env);
startControl(env, pool);

const app = express();
app.use(sessionMiddleware(sessions));
for (const path of ["/login", "/read", "/write"]) {
  app.get(path, (req, res) => {
    const { status, body } = handleRoute(path, req.session as unknown as Session<BenchData>);
    res.status(status).send(body);
  });
}
app.listen(env.port, "127.0.0.1", () => announceReady("pgsession-express"));
