/** pgsession on plain node:http: `npm run example:node`, then open http://127.0.0.1:3000 */
import { createServer } from "node:http";
import { withSession } from "pgsession/node";
import { announce, count, exampleSessions, HOST, loginName, page, PORT, readForm, refusal } from "./shared.js";

const sessions = await exampleSessions();

const server = createServer(
  withSession(sessions, async (req, res, session) => {
    const refused = refusal(req.method, req.headers);
    if (refused) {
      res.writeHead(refused.status, { "content-type": "text/plain; charset=utf-8" }).end(refused.text);
      return;
    }
    const route = `${req.method} ${req.url}`;
    if (route === "POST /count") count(session);
    else if (route === "POST /login") await session.login(loginName((await readForm(req)).get("name")));
    else if (route === "POST /logout") await session.logout();
    if (req.method === "POST") {
      res.writeHead(303, { location: "/" }).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page(session));
  }),
);
server.listen(PORT, HOST, () => announce("node", server));
