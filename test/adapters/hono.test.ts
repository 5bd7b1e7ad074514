import { Hono } from "hono";
import { describe } from "vitest";
import { sessionMiddleware, type SessionVariables } from "../../src/adapters/hono.js";
import { runAdapterContract } from "./contract.js";
import { handleRoute, type AppData } from "./routes.js";

describe("pgsession/hono", () => {
  runAdapterContract("hono", async (sessions) => {
    const app = new Hono<{ Variables: SessionVariables<AppData> }>();
    app.use(sessionMiddleware(sessions));
    app.all("*", async (c) => {
      const answer = await handleRoute(sessions, c.req.method, c.req.url, c.get("session"));
      if (answer.cookie) c.header("Set-Cookie", answer.cookie, { append: true });
      if (answer.cacheControl) c.header("Cache-Control", answer.cacheControl);
      return c.json(answer.body as object, answer.status as 200);
    });
    return {
      send: async (method, path, headers) => app.request(path, { method, headers }),
      close: async () => {},
    };
  });
});
