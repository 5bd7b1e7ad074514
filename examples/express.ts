/** pgsession with Express 5: `npm run example:express`, then open http://127.0.0.1:3000 */
import { createServer } from "node:http";
import express from "express";
import { sessionMiddleware } from "pgsession/express";
import { announce, count, exampleSessions, HOST, loginName, page, PORT, refusal, type ExampleData } from "./shared.js";
import type { Session } from "pgsession";

const sessions = await exampleSessions();
const app = express();
app.use((req, res, next) => {
  const refused = refusal(req.method, req.headers);
  if (refused) res.status(refused.status).type("text").send(refused.text);
  else next();
});
app.use(express.urlencoded({ extended: false }));
app.use(sessionMiddleware(sessions));
const session = (req: express.Request) => req.session as unknown as Session<ExampleData>;

app.get("/", (req, res) => {
  res.type("html").send(page(session(req)));
});
app.post("/count", (req, res) => {
  count(session(req));
  res.redirect(303, "/");
});
app.post("/login", async (req, res) => {
  await session(req).login(loginName(req.body?.name));
  res.redirect(303, "/");
});
app.post("/logout", async (req, res) => {
  await session(req).logout();
  res.redirect(303, "/");
});

const server = createServer(app).listen(PORT, HOST, () => announce("express", server));
