/**
 * Diagnostic: pgsession's framework-free core on plain node:http, no adapter
 * (`sessions.resolve`, the handler, `sessions.commit`, then the response). Compared with
 * pgsession-node it isolates the node:http adapter's cost; compared with floor-node, the
 * core's and the store's.
 */
import { createServer, type OutgoingHttpHeaders } from "node:http";
import { announceReady, createPool, readServerEnv, startControl } from "./common.js";
import { createBenchSessions, handleRoute } from "./pgsession-setup.js";

const env = readServerEnv();
const pool = createPool(env);
const sessions = await createBenchSessions(pool, env);
startControl(env, pool);

const server = createServer(async (req, res) => {
  try {
    const session = await sessions.resolve(req.headers.cookie, {
      secure: false,
      ip: req.socket.remoteAddress ?? null,
      userAgent: req.headers["user-agent"] ?? null,
    });
    const { status, body } = handleRoute(req.url, session);
    const setCookie = await sessions.commit(session);
    const headers: OutgoingHttpHeaders = { "content-type": "text/plain" };
    if (setCookie) headers["set-cookie"] = setCookie;
    res.writeHead(status, headers).end(body);
  } catch (err) {
    console.error(err);
    res.writeHead(500).end();
  }
});
server.listen(env.port, "127.0.0.1", () => announceReady("pgsession-core"));
