/**
 * pgsession with NestJS on Express: `npm run example:nest-express`, then
 * `curl -i -X POST http://127.0.0.1:3000/counter`.
 */
import { NestFactory } from "@nestjs/core";
import type { NestExpressApplication } from "@nestjs/platform-express";
import { sessionMiddleware } from "pgsession/express";
import { announce, exampleSessions, HOST, PORT } from "../shared.js";
import { AppModule } from "./app.module.js";

const sessions = await exampleSessions({ migrate: process.env.PGSESSION_MIGRATE !== "0" });
const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: ["error", "warn"] });
// Refuses cross-site POSTs. On Express, Nest checks where this is called: before the session is read.
app.enableCsrfProtection();
// Global, functional middleware: every route (and Nest's 404s) gets req.session, and each
// response is held until the session is committed. A MiddlewareConsumer would do the same,
// but is configured in a module, which then depends on the platform.
app.use(sessionMiddleware(sessions));
await app.listen(PORT, HOST);
announce("nest-express", app.getHttpServer());
