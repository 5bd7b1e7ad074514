/** pgsession with Fastify 5: `npm run example:fastify`, then open http://127.0.0.1:3000 */
import Fastify from "fastify";
import { pgsessionPlugin } from "pgsession/fastify";
import type { Session } from "pgsession";
import { announce, count, exampleSessions, HOST, loginName, page, PORT, refusal, type ExampleData } from "./shared.js";

const sessions = await exampleSessions();
const app = Fastify();
app.addHook("onRequest", async (request, reply) => {
  const refused = refusal(request.method, request.headers);
  if (refused) return reply.code(refused.status).type("text/plain; charset=utf-8").send(refused.text);
});
app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
  done(null, Object.fromEntries(new URLSearchParams(body as string)));
});
await app.register(pgsessionPlugin, { sessions });
const session = (request: { session: unknown }) => request.session as Session<ExampleData>;

app.get("/", async (request, reply) => reply.type("text/html; charset=utf-8").send(page(session(request))));
app.post("/count", async (request, reply) => {
  count(session(request));
  return reply.redirect("/", 303);
});
app.post<{ Body: { name?: string } | undefined }>("/login", async (request, reply) => {
  await session(request).login(loginName(request.body?.name));
  return reply.redirect("/", 303);
});
app.post("/logout", async (request, reply) => {
  await session(request).logout();
  return reply.redirect("/", 303);
});

announce("fastify", await app.listen({ port: PORT, host: HOST }));
