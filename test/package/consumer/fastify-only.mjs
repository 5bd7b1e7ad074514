/**
 * Run with plain Node by test/package/tarball.test.ts in a scratch application that
 * installed nothing but pgsession and fastify: pgsession/fastify loads, registers and
 * serves. A request without a cookie gets a new session and changes nothing, so no
 * database is asked. Prints what it saw as JSON.
 */
import Fastify from "fastify";
import { createSessions } from "pgsession";
import { pgsessionPlugin } from "pgsession/fastify";

const app = Fastify();
await app.register(pgsessionPlugin, { sessions: createSessions() });
app.get("/", async (request) => ({ isNew: request.session.isNew, user: request.session.userId }));
const response = await app.inject("/");
console.log(JSON.stringify({ status: response.statusCode, body: response.json(), hasPlugin: app.hasPlugin("pgsession") }));
await app.close();
