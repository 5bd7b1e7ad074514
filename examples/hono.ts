/** pgsession with Hono: `npx tsx examples/hono.ts`, then open http://127.0.0.1:3000 */
import { Hono } from "hono";
import { sessionMiddleware, type SessionVariables } from "../src/adapters/hono.js";
import { count, exampleSessions, page, serveFetch, type ExampleData } from "./shared.js";

const sessions = await exampleSessions();
const app = new Hono<{ Variables: SessionVariables<ExampleData> }>();
app.use(sessionMiddleware(sessions));

app.get("/", (c) => c.html(page(c.get("session"))));
app.post("/count", (c) => {
  count(c.get("session"));
  return c.redirect("/", 303);
});
app.post("/login", async (c) => {
  await c.get("session").login("alice");
  return c.redirect("/", 303);
});
app.post("/logout", async (c) => {
  await c.get("session").logout();
  return c.redirect("/", 303);
});

// On Bun or Deno: export default app. On Node, a small bridge (or @hono/node-server):
serveFetch(app.fetch, "hono");
