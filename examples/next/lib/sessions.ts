/**
 * The session manager of the app. Next bundles the proxy apart from the pages, actions
 * and route handlers, so each bundle that imports this module makes its own (with its own
 * pool of connections): nothing in it may rely on being the only one.
 */
import { createSessions } from "pgsession";
import { pgStore } from "pgsession/pg";

export type AppData = { count: number };

export const sessions = createSessions<AppData>({
  store: pgStore({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 2000 }),
  ...(process.env.PGSESSION_SCHEMA && { schema: process.env.PGSESSION_SCHEMA }),
});

/**
 * Why a form post to a route handler must be refused, or null: Server Actions check the
 * Origin themselves, route handlers do not. The browser says `Sec-Fetch-Site`; without it,
 * the Origin must be the Host's.
 */
export function crossSite(request: Request): Response | null {
  const site = request.headers.get("sec-fetch-site");
  const origin = request.headers.get("origin");
  const host = request.headers.get("host");
  const sameOrigin = site !== null ? site === "same-origin" : origin !== null && host !== null && new URL(origin).host === host;
  return sameOrigin ? null : new Response("Forbidden: a form post from another site.\n", { status: 403 });
}

/** The name the login form sent: 1 to 40 characters without control characters, else "alice". */
export function loginName(value: unknown): string {
  const name = typeof value === "string" ? value.trim() : "";
  return name.length > 0 && name.length <= 40 && !/[\u0000-\u001f\u007f]/.test(name) ? name : "alice";
}
