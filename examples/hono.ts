/** pgsession with Hono: `npm run example:hono`, then open http://127.0.0.1:3000 */
import { Hono } from "hono";
import { sessionMiddleware, type SessionVariables } from "pgsession/hono";
import { count, exampleSessions, loginName, page, refusal, serveFetch, type ExampleData } from "./shared.js";

const sessions = await exampleSessions();
const app = new Hono<{ Variables: SessionVariables<ExampleData> }>();
app.use(async (c, next) => {
  const refused = refusal(c.req.method, c.req.raw.headers, new URL(c.req.url).origin);
  if (refused) return c.text(refused.text, refused.status);
  await next();
});
app.use(sessionMiddleware(sessions));

app.get("/", (c) => c.html(page(c.get("session"))));
app.post("/count", (c) => {
  count(c.get("session"));
  return c.redirect("/", 303);
});
app.post("/login", async (c) => {
  await c.get("session").login(loginName((await c.req.parseBody()).name));
  return c.redirect("/", 303);
});
app.post("/logout", async (c) => {
  await c.get("session").logout();
  return c.redirect("/", 303);
});

// On Bun or Deno: export default app. On Node, a small bridge (or @hono/node-server):
serveFetch(app.fetch, "hono");
