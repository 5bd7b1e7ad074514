/** pgsession with Koa 3: `npm run example:koa`, then open http://127.0.0.1:3000 */
import { createServer } from "node:http";
import Koa from "koa";
import { sessionMiddleware, type SessionContext } from "pgsession/koa";
import { announce, count, exampleSessions, HOST, loginName, page, PORT, readForm, refusal, type ExampleData } from "./shared.js";

const sessions = await exampleSessions();
// SessionContext types ctx.session with this app's data (or register it once: see the README).
const app = new Koa<Koa.DefaultState, SessionContext<ExampleData>>();
app.use(async (ctx, next) => {
  const refused = refusal(ctx.method, ctx.headers);
  if (!refused) return next();
  ctx.status = refused.status;
  ctx.body = refused.text;
});
app.use(sessionMiddleware(sessions));

app.use(async (ctx) => {
  const route = `${ctx.method} ${ctx.path}`;
  if (route === "GET /") {
    ctx.type = "html";
    ctx.body = page(ctx.session);
    return;
  }
  if (route === "POST /count") count(ctx.session);
  else if (route === "POST /login") await ctx.session.login(loginName((await readForm(ctx.req)).get("name")));
  else if (route === "POST /logout") await ctx.session.logout();
  else return; // Koa answers 404
  ctx.status = 303;
  ctx.redirect("/");
});

const server = createServer(app.callback()).listen(PORT, HOST, () => announce("koa", server));
