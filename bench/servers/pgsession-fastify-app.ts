/** The Fastify pgsession servers (`pgsessionPlugin`): plain, or with the read cache. */
import Fastify from "fastify";
import { pgsessionPlugin } from "../../src/adapters/fastify.js";
import type { Session } from "../../src/index.js";
import { announceReady, createPool, readServerEnv, startControl } from "./common.js";
import type { BenchData } from "./floor-db.js";
import { createBenchSessions, handleRoute, type BenchVariant } from "./pgsession-setup.js";

/**
 * Starts the server `name` and announces it ready.
 *
 * @example
 * ```ts
 * await servePgsessionFastify("pgsession-fastify-cache", { cache: true });
 * ```
 */
export async function servePgsessionFastify(name: string, variant: BenchVariant = {}): Promise<void> {
  const env = readServerEnv();
  const pool = createPool(env);
  const sessions = await createBenchSessions(pool, env, variant);
  startControl(env, pool);
  const app = Fastify({ logger: false });
  await app.register(pgsessionPlugin, { sessions });
  for (const path of ["/login", "/read", "/write"]) {
    app.get(path, async (request, reply) => {
      const { status, body } = handleRoute(path, request.session as unknown as Session<BenchData>);
      // The body is returned, as the Fastify floor does: every Fastify server answers in the same style.
      reply.code(status);
      return body;
    });
  }
  await app.listen({ port: env.port, host: "127.0.0.1" });
  announceReady(name);
}
