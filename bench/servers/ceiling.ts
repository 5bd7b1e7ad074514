/** The HTTP ceiling: plain node:http answering a constant, no database. */
import { createServer } from "node:http";
import { announceReady, readServerEnv, startControl } from "./common.js";

const env = readServerEnv();
startControl(env, null);
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain" }).end("0");
});
server.listen(env.port, "127.0.0.1", () => announceReady("ceiling"));
