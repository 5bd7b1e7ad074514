/** pgsession with h3 2: `npm run example:h3`, then open http://127.0.0.1:3000 */
import { createServer } from "node:http";
import { H3, readBody, redirect, toNodeHandler } from "h3";
import { sessionMiddleware, usePgSession } from "pgsession/h3";
import { announce, count, exampleSessions, HOST, loginName, page, PORT, refusal, type ExampleData } from "./shared.js";

const sessions = await exampleSessions();
const app = new H3();
app.use((event) => {
  const refused = refusal(event.req.method, event.req.headers, event.url.origin);
  if (!refused) return;
  event.res.status = refused.status;
  return refused.text;
});
app.use(sessionMiddleware(sessions));
// The type argument types this app's data (or register it once: see the README).
const session = usePgSession<ExampleData>;

app.get("/", (event) => {
  event.res.headers.set("content-type", "text/html; charset=utf-8");
  return page(session(event));
});
app.post("/count", (event) => {
  count(session(event));
  return redirect("/", 303);
});
app.post("/login", async (event) => {
  const form = await readBody<{ name?: string }>(event);
  await session(event).login(loginName(form?.name));
  return redirect("/", 303);
});
app.post("/logout", async (event) => {
  await session(event).logout();
  return redirect("/", 303);
});

// h3 makes the request's URL from its Host header: one that names no host is refused first.
const handler = toNodeHandler(app);
const server = createServer((req, res) => {
  const refused = refusal(undefined, req.headers);
  if (refused) res.writeHead(refused.status, { "content-type": "text/plain; charset=utf-8" }).end(refused.text);
  else void handler(req, res);
});
server.listen(PORT, HOST, () => announce("h3", server));
// On Bun, Deno or Workers: export default app (or h3's serve(app)).
