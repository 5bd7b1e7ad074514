import { createServer, type Server } from "node:http";
import { describe } from "vitest";
import { withSession } from "../../src/adapters/node.js";
import { hasPostgres } from "../support/db.js";
import { httpSend } from "./client.js";
import { runAdapterContract } from "./contract.js";
import { handleRoute } from "./routes.js";

/** Starts a node:http server on a loopback port; resolves to its origin and a closer. */
export async function listen(server: Server): Promise<{ base: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    base: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe.skipIf(!hasPostgres)("pgsession/node", () => {
  runAdapterContract("node", async (sessions) => {
    const server = createServer(withSession(sessions, async (req, res, session) => {
      const answer = await handleRoute(sessions, req.method ?? "GET", req.url ?? "/", session);
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(JSON.stringify(answer.body));
    }));
    const { base, close } = await listen(server);
    return { send: httpSend(base), close };
  });
});
