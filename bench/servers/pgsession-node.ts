/** pgsession with its node:http adapter (`withSession`). */
import { createServer } from "node:http";
import { withSession } from "../../src/adapters/node.js";
import { announceReady, createPool, readServerEnv, startControl } from "./common.js";
import { createBenchSessions, handleRoute } from "./pgsession-setup.js";

const env = readServerEnv();
const pool = createPool(env);
const sessions = await createBenchSessions(pool, env);
startControl(env, pool);

const server = createServer(
  withSession(sessions, (req, res, session) => {
    const { status, body } = handleRoute(req.url, session);
    res.writeHead(status, { "content-type": "text/plain" }).end(body);
  }),
);
server.listen(env.port, "127.0.0.1", () => announceReady("pgsession-node"));
