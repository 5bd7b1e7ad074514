/**
 * pgsession with NestJS on Fastify: `npm run example:nest-fastify`, then
 * `curl -i -X POST http://127.0.0.1:3000/counter`.
 */
import { NestFactory } from "@nestjs/core";
import { FastifyAdapter, type NestFastifyApplication } from "@nestjs/platform-fastify";
import { pgsessionPlugin } from "pgsession/fastify";
import { announce, exampleSessions, HOST, PORT } from "../shared.js";
import { AppModule } from "./app.module.js";

const sessions = await exampleSessions({ migrate: process.env.PGSESSION_MIGRATE !== "0" });
const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { logger: ["error", "warn"] });
// Refuses cross-site POSTs; on Fastify, Nest checks before any plugin's request hook.
app.enableCsrfProtection();
// A Fastify plugin, not Nest middleware (which Nest runs on Fastify's raw request through
// @fastify/middie): it is not encapsulated, so every route Nest registers gets request.session.
await app.register(pgsessionPlugin, { sessions });
await app.listen(PORT, HOST);
announce("nest-fastify", app.getHttpServer());
