/** Fastify: request.session is typed by the registered data. */
import Fastify from "fastify";
import { createSessions } from "pgsession";
import { pgsessionPlugin } from "pgsession/fastify";
import { expectType } from "./register.js";

const app = Fastify();
await app.register(pgsessionPlugin, { sessions: createSessions() });
app.get("/", async (request) => {
  const visits = expectType<number | undefined>(request.session.get("visits"));
  // @ts-expect-error a key AppData does not have
  request.session.get("nope");
  await request.session.login("ada");
  return { visits };
});
