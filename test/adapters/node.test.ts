import { createServer } from "node:http";
import { describe } from "vitest";
import { withSession } from "../../src/adapters/node.js";
import { httpSend, listen } from "./client.js";
import { runAdapterContract } from "./contract.js";
import { handleRoute } from "./routes.js";

describe("pgsession/node", () => {
  runAdapterContract("node", async (sessions) => {
    const server = createServer(
      withSession(sessions, async (req, res, session) => {
        const answer = await handleRoute(sessions, req.method ?? "GET", req.url ?? "/", session);
        if (answer.cookie) res.setHeader("Set-Cookie", answer.cookie);
        // The app's Cache-Control goes in writeHead's object, which node:http lets override setHeader.
        res.writeHead(answer.status, {
          "content-type": "application/json",
          ...(answer.cacheControl && { "Cache-Control": answer.cacheControl }),
        });
        res.end(JSON.stringify(answer.body));
      }),
    );
    const { base, close } = await listen(server);
    return { send: httpSend(base), close };
  });
});
