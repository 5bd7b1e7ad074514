import { createServer } from "node:http";
import express from "express";
import { describe } from "vitest";
import { sessionMiddleware } from "../../src/adapters/express.js";
import { hasPostgres } from "../support/db.js";
import { httpSend, listen } from "./client.js";
import { runAdapterContract } from "./contract.js";
import { handleRoute } from "./routes.js";

describe.skipIf(!hasPostgres)("pgsession/express", () => {
  runAdapterContract("express", async (sessions) => {
    const app = express();
    app.use(sessionMiddleware(sessions));
    app.all("/{*path}", async (req, res) => {
      const answer = await handleRoute(sessions, req.method, req.originalUrl, req.session as never);
      if (answer.cookie) res.append("Set-Cookie", answer.cookie);
      res.status(answer.status).json(answer.body);
    });
    const { base, close } = await listen(createServer(app));
    return { send: httpSend(base), close };
  });
});
