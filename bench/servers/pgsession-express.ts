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
    // As the Express floors answer: res.status only for a failure (on Express's responses
    // each property store takes V8's slow path, about 2 µs).
    if (status !== 200) res.status(status);
    res.send(body);
  });
}
app.listen(env.port, "127.0.0.1", () => announceReady("pgsession-express"));
