/**
 * What the framework examples share: the session manager (PostgreSQL at DATABASE_URL,
 * else an in-memory PGlite database), the page they render, and a tiny bridge serving
 * a fetch handler on node:http (for the fetch and Hono examples).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { Readable } from "node:stream";
import { createSessions, type Session, type Sessions } from "../src/index.js";

export type ExampleData = { visits: number };

/** The port to listen on (`PORT`, default 3000; 0 picks a free one) on the loopback interface. */
export const PORT = Number(process.env.PORT ?? 3000);
export const HOST = "127.0.0.1";

/** The session manager of the examples, migrated. */
export async function exampleSessions(): Promise<Sessions<ExampleData>> {
  const url = process.env.DATABASE_URL;
  const store = url
    ? (await import("../src/store/pg.js")).pgStore({ connectionString: url })
    : (await import("../src/store/pglite.js")).pgliteStore();
  const sessions = createSessions<ExampleData>({ store, ...(process.env.PGSESSION_SCHEMA && { schema: process.env.PGSESSION_SCHEMA }) });
  await sessions.migrate();
  return sessions;
}

/** The one page: the counter, and login or logout. */
export function page(session: Session<ExampleData>): string {
  const who = session.userId ? `Signed in as <b>${session.userId}</b>` : "Not signed in";
  const button = (action: string, label: string) => `<form method="post" action="${action}"><button>${label}</button></form>`;
  return `<!doctype html><title>pgsession</title>
<p>${who}. Visits: <b>${session.get("visits") ?? 0}</b></p>
${button("/count", "Count")}${session.userId ? button("/logout", "Log out") : button("/login", "Log in as alice")}`;
}

/** Counts one visit. */
export function count(session: Session<ExampleData>): void {
  session.set("visits", (session.get("visits") ?? 0) + 1);
}

/** Prints the address (the examples test reads this line). */
export function announce(name: string, server: Server | string): void {
  const address = typeof server === "string" ? server : server.address();
  const url = typeof address === "string" ? address : `http://${HOST}:${address?.port}`;
  console.log(`${name} example listening on ${url}`);
}

/** Serves a fetch handler (Request -> Response) on node:http. */
export function serveFetch(handler: (request: Request) => Response | Promise<Response>, name: string): Server {
  const server = createServer(async (req: IncomingMessage, res) => {
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) {
      for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(key, item);
    }
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : (Readable.toWeb(req) as ReadableStream);
    const request = new Request(`http://${req.headers.host ?? HOST}${req.url}`, { method: req.method, headers, body, duplex: "half" } as RequestInit);
    const response = await handler(request);
    res.writeHead(response.status, [...response.headers].flat());
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  server.listen(PORT, HOST, () => announce(name, server));
  return server;
}
