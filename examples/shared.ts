/**
 * What the framework examples share: the session manager (PostgreSQL at DATABASE_URL,
 * else an in-memory PGlite database), the page they render, the check every request
 * passes first, and a tiny bridge serving a fetch handler on node:http (for the fetch and
 * Hono examples).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { Readable } from "node:stream";
import { createSessions, type Session, type Sessions } from "pgsession";

export type ExampleData = { visits: number };

/** The port to listen on (`PORT`, default 3000; 0 picks a free one) on the loopback interface. */
export const PORT = Number(process.env.PORT ?? 3000);
export const HOST = "127.0.0.1";

/**
 * The session manager of the examples, migrated (unless `migrate` is false: an app whose
 * schema is migrated at deploy time, by `npx pgsession migrate`).
 */
export async function exampleSessions({ migrate = true } = {}): Promise<Sessions<ExampleData>> {
  const url = process.env.DATABASE_URL;
  const store = url ? (await import("pgsession/pg")).pgStore({ connectionString: url }) : (await import("pgsession/pglite")).pgliteStore();
  const sessions = createSessions<ExampleData>({ store, ...(process.env.PGSESSION_SCHEMA && { schema: process.env.PGSESSION_SCHEMA }) });
  if (migrate) await sessions.migrate();
  return sessions;
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text made safe to put into HTML, in an element or a quoted attribute. */
export function escapeHtml(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** What the page shows of a session: pgsession's `Session`, or a view of another middleware's. */
export interface PageSession {
  readonly userId: string | null;
  get(key: "visits"): number | undefined;
}

/** The one page: the counter, and login or logout. */
export function page(session: PageSession): string {
  const e = escapeHtml;
  const who = session.userId ? `Signed in as <b>${e(session.userId)}</b>` : "Not signed in";
  const form = (action: string, label: string, fields = "") =>
    `<form method="post" action="${e(action)}">${fields}<button>${e(label)}</button></form>`;
  return `<!doctype html><meta charset="utf-8"><title>pgsession</title>
<p>${who}. Visits: <b>${e(session.get("visits") ?? 0)}</b></p>
${form("/count", "Count")}${session.userId ? form("/logout", "Log out") : form("/login", "Log in", '<input name="name" value="alice" aria-label="Name"> ')}`;
}

/** Counts one visit. */
export function count(session: Session<ExampleData>): void {
  session.set("visits", (session.get("visits") ?? 0) + 1);
}

/** The name the login form sent: 1 to 40 characters without control characters, else "alice". */
export function loginName(value: unknown): string {
  const name = typeof value === "string" ? value.trim() : "";
  return name.length > 0 && name.length <= 40 && !/[\u0000-\u001f\u007f]/.test(name) ? name : "alice";
}

/** The URL-encoded form of a node:http request (at most 8 KiB of it). */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = "";
  for await (const chunk of req) body += body.length < 8192 ? String(chunk) : "";
  return new URLSearchParams(body);
}

const VALID_HOST = /^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

function header(headers: Headers | Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers instanceof Headers ? headers.get(name) : headers[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * Why a request must be refused, or null. Every example runs it before anything else:
 * - 400 when the Host header names no host (this server's origin is `http://` + Host);
 * - 403 for a POST from another site, the demo's first CSRF check (src/cli/demo/csrf.ts):
 *   `Sec-Fetch-Site` must be `same-origin`, or, when the browser sends none, `Origin` must be
 *   this server's origin. A POST with neither is refused too.
 * `origin` is this server's origin when the runtime knows it (a fetch Request's URL); the
 * Host header is then not checked again.
 */
export function refusal(
  method: string | undefined,
  headers: Headers | Record<string, string | string[] | undefined>,
  origin?: string,
): { status: 400 | 403; text: string } | null {
  if (origin === undefined) {
    const host = header(headers, "host");
    if (host === undefined || !VALID_HOST.test(host)) return { status: 400, text: "Bad request: the Host header names no host." };
    origin = `http://${host}`;
  }
  if (method !== "POST") return null;
  const site = header(headers, "sec-fetch-site");
  const sameOrigin = site !== undefined ? site === "same-origin" : header(headers, "origin") === origin;
  return sameOrigin ? null : { status: 403, text: "Forbidden: a form post from another site." };
}

/** Prints the address (the examples test reads this line). */
export function announce(name: string, server: Server | string): void {
  const address = typeof server === "string" ? server : server.address();
  const url = typeof address === "string" ? address : `http://${HOST}:${address?.port}`;
  console.log(`${name} example listening on ${url}`);
}

/** The fetch Request for a node:http request, or null when it names no valid URL (a bad Host). */
function toRequest(req: IncomingMessage): Request | null {
  const host = req.headers.host;
  if (host === undefined || !VALID_HOST.test(host)) return null;
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(key, item);
  }
  const body = req.method === "GET" || req.method === "HEAD" ? undefined : (Readable.toWeb(req) as ReadableStream);
  try {
    return new Request(`http://${host}${req.url}`, { method: req.method, headers, body, duplex: "half" } as RequestInit);
  } catch {
    return null;
  }
}

/** Serves a fetch handler (Request -> Response) on node:http; a failing request never crashes the process. */
export function serveFetch(handler: (request: Request) => Response | Promise<Response>, name: string): Server {
  const server = createServer((req, res) => {
    const request = toRequest(req);
    if (request === null) {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8" }).end("Bad request: no valid URL (check the Host header).");
      return;
    }
    (async () => {
      const response = await handler(request);
      res.writeHead(response.status, [...response.headers].flat());
      res.end(Buffer.from(await response.arrayBuffer()));
    })().catch((err: unknown) => {
      console.error(err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.listen(PORT, HOST, () => announce(name, server));
  return server;
}
