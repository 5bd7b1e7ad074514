/** The node:http pgsession servers (`withSession`): plain, with the read cache, or with its triggers alone. */
import { createServer } from "node:http";
import { withSession } from "../../src/adapters/node.js";
import { announceReady, createPool, readServerEnv, startControl } from "./common.js";
import { createBenchSessions, handleRoute, type BenchVariant } from "./pgsession-setup.js";

/**
 * Starts the server `name` and announces it ready.
 *
 * @example
 * ```ts
 * await servePgsessionNode("pgsession-node-cache", { cache: true });
 * ```
 */
export async function servePgsessionNode(name: string, variant: BenchVariant = {}): Promise<void> {
  const env = readServerEnv();
  const pool = createPool(env);
  const sessions = await createBenchSessions(pool, env, variant);
  startControl(env, pool);
  const server = createServer(
    withSession(sessions, (req, res, session) => {
      const { status, body } = handleRoute(req.url, session);
      res.writeHead(status, { "content-type": "text/plain" }).end(body);
    }),
  );
  server.listen(env.port, "127.0.0.1", () => announceReady(name));
}
