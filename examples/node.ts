/** pgsession on plain node:http: `npx tsx examples/node.ts`, then open http://127.0.0.1:3000 */
import { createServer } from "node:http";
import { withSession } from "../src/adapters/node.js";
import { announce, count, exampleSessions, HOST, page, PORT } from "./shared.js";

const sessions = await exampleSessions();

const server = createServer(withSession(sessions, async (req, res, session) => {
  const route = `${req.method} ${req.url}`;
  if (route === "POST /count") count(session);
  else if (route === "POST /login") await session.login("alice");
  else if (route === "POST /logout") await session.logout();
  if (req.method === "POST") {
    res.writeHead(303, { location: "/" }).end();
    return;
  }
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page(session));
}));
server.listen(PORT, HOST, () => announce("node", server));
