/**
 * The app every adapter test serves, written once over the core Session: each adapter
 * test only maps its framework's request onto `handleRoute`.
 *
 *   GET  /peek            -> { id, isNew, user, count } (changes nothing)
 *   POST /inc             -> count + 1
 *   POST /set?key=k       -> sets key k (parallel writes)
 *   POST /login?user=u[&remember=1]
 *   POST /rotate          -> new token, same session
 *   POST /logout
 *   POST /revoke-self     -> revokes the session in the database, then writes to it
 *   POST /revoke-login    -> revokes the session in the database, then logs in on it
 *   POST /with-cookie     -> sets a key, and the app sets a cookie of its own ("other")
 *   POST /cached?cc=v     -> sets a key, and the app sets Cache-Control: v
 */
import type { Session } from "../../src/session/session.js";
import type { Sessions } from "../../src/index.js";

export type AppData = { count: number } & Record<string, unknown>;

export interface RouteAnswer {
  status: number;
  body: unknown;
  /** A Set-Cookie of the app's own, to send in the framework's idiom. */
  cookie?: string;
  /** A Cache-Control of the app's own, to send in the framework's idiom. */
  cacheControl?: string;
}

export async function handleRoute(
  sessions: Sessions<AppData>,
  method: string,
  url: string,
  session: Session<AppData>,
): Promise<RouteAnswer> {
  const { pathname, searchParams } = new URL(url, "http://localhost");
  const route = `${method} ${pathname}`;
  switch (route) {
    case "GET /peek":
      return {
        status: 200,
        body: { id: session.id, isNew: session.isNew, user: session.userId, count: session.get("count") ?? 0, keys: session.keys() },
      };
    case "POST /inc": {
      const count = (session.get("count") ?? 0) + 1;
      session.set("count", count);
      return { status: 200, body: { count } };
    }
    case "POST /set":
      session.set(searchParams.get("key") ?? "k", true);
      return { status: 200, body: { ok: true } };
    case "POST /login":
      await session.login(searchParams.get("user") ?? "alice", { remember: searchParams.get("remember") === "1" });
      return { status: 200, body: { user: session.userId } };
    case "POST /rotate":
      await session.rotate();
      return { status: 200, body: { user: session.userId } };
    case "POST /logout":
      await session.logout();
      return { status: 200, body: { ok: true } };
    case "POST /revoke-self":
      await sessions.revokeSession(session.id);
      session.set("after", true);
      return { status: 200, body: { ok: true } };
    case "POST /revoke-login":
      await sessions.revokeSession(session.id);
      await session.login("mallory");
      return { status: 200, body: { ok: true } };
    case "POST /with-cookie":
      session.set("c", 1);
      return { status: 200, body: { ok: true }, cookie: "other=1; Path=/" };
    case "POST /cached":
      session.set("cached", true);
      return { status: 200, body: { ok: true }, cacheControl: searchParams.get("cc") ?? "" };
    default:
      return { status: 404, body: { error: "not found" } };
  }
}
