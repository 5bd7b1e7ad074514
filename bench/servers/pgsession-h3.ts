/** pgsession with its h3 adapter (`sessionMiddleware`, `usePgSession`). */
import { createServer } from "node:http";
import { H3, toNodeHandler } from "h3";
import { sessionMiddleware, usePgSession } from "../../src/adapters/h3.js";
import { announceReady, createPool, readServerEnv, startControl } from "./common.js";
import { createBenchSessions, handleRoute } from "./pgsession-setup.js";
import type { BenchData } from "./floor-db.js";

const env = readServerEnv();
const pool = createPool(env);
const sessions = await createBenchSessions(pool, env);
startControl(env, pool);

const app = new H3();
app.use(sessionMiddleware(sessions));
for (const path of ["/login", "/read", "/write"]) {
  app.get(path, (event) => {
    const { status, body } = handleRoute(path, usePgSession<BenchData>(event));
    // As the h3 floor answers: event.res.status only for a failure.
    if (status !== 200) event.res.status = status;
    return body;
  });
}
createServer(toNodeHandler(app)).listen(env.port, "127.0.0.1", () => announceReady("pgsession-h3"));
