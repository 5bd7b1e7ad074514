/**
 * pgsession for Request -> Response runtimes: `npm run example:fetch`, then open
 * http://127.0.0.1:3000. The same `handler` is a Next.js route handler
 * (`export const GET = handler, POST = handler`), Bun's `fetch` or Deno.serve's handler.
 */
import { withSession } from "pgsession/fetch";
import { count, exampleSessions, loginName, page, refusal, serveFetch } from "./shared.js";

const sessions = await exampleSessions();

export const handler = withSession(sessions, async (request, session) => {
  const url = new URL(request.url);
  const refused = refusal(request.method, request.headers, url.origin);
  if (refused) return new Response(refused.text, { status: refused.status });
  const route = `${request.method} ${url.pathname}`;
  if (route === "POST /count") count(session);
  else if (route === "POST /login") await session.login(loginName(new URLSearchParams(await request.text()).get("name")));
  else if (route === "POST /logout") await session.logout();
  if (request.method === "POST") return new Response(null, { status: 303, headers: { location: "/" } });
  return new Response(page(session), { headers: { "content-type": "text/html; charset=utf-8" } });
});

serveFetch(handler, "fetch");
