/**
 * The peer: Fastify 5 + @fastify/cookie + @fastify/session + connect-pg-simple
 * (saveUninitialized false, rolling false, maxAge 1 day; @fastify/session has no resave).
 */
import Fastify from "fastify";
import { announceReady, createPool, importUntyped, ONE_DAY_MS, PEER_SECRET, readServerEnv, startControl } from "./common.js";
import { newSessionData } from "./floor-db.js";
import { createPeerStore, handlePeerRoute } from "./peer-store.js";

const env = readServerEnv();
const pool = createPool(env);
const fastifyCookie = await importUntyped("@fastify/cookie");
const fastifySession = await importUntyped("@fastify/session");
const store = await createPeerStore(fastifySession, pool, env);
startControl(env, pool);

const app = Fastify({ logger: false });
await app.register(fastifyCookie);
await app.register(fastifySession, {
  store,
  secret: PEER_SECRET,
  saveUninitialized: false,
  rolling: false,
  cookie: { secure: false, maxAge: ONE_DAY_MS },
});
for (const path of ["/login", "/read", "/write"]) {
  app.get(path, async (request, reply) => {
    const { status, body } = handlePeerRoute(
      path,
      (request as unknown as { session: Record<string, any> }).session,
      () => newSessionData().userId,
    );
    // The body is returned, as the Fastify floor does: every Fastify server answers in the same style.
    reply.code(status);
    return body;
  });
}
await app.listen({ port: env.port, host: "127.0.0.1" });
announceReady("fastify-session");
