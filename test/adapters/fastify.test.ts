import Fastify from "fastify";
import { describe } from "vitest";
import { pgsessionPlugin } from "../../src/adapters/fastify.js";
import { hasPostgres } from "../support/db.js";
import { httpSend } from "./client.js";
import { runAdapterContract } from "./contract.js";
import { handleRoute } from "./routes.js";

describe.skipIf(!hasPostgres)("pgsession/fastify", () => {
  runAdapterContract("fastify", async (sessions) => {
    const app = Fastify();
    await app.register(pgsessionPlugin, { sessions });
    app.all("/*", async (request, reply) => {
      const answer = await handleRoute(sessions, request.method, request.url, request.session as never);
      if (answer.cookie) reply.header("set-cookie", answer.cookie);
      return reply.code(answer.status).send(answer.body);
    });
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    return { send: httpSend(base), close: () => app.close() };
  });
});
