import { describe, expect, it } from "vitest";
import { withSession } from "../../src/adapters/fetch.js";
import { appendSetCookie } from "../../src/adapters/fetch/write-response.js";
import { runAdapterContract } from "./contract.js";
import { handleRoute } from "./routes.js";

describe("pgsession/fetch", () => {
  runAdapterContract("fetch", async (sessions) => {
    const handler = withSession(sessions, async (request, session) => {
      const answer = await handleRoute(sessions, request.method, request.url, session);
      const headers = new Headers();
      if (answer.cookie) headers.set("set-cookie", answer.cookie);
      if (answer.cacheControl) headers.set("cache-control", answer.cacheControl);
      return Response.json(answer.body, { status: answer.status, headers });
    });
    return {
      send: (method, path, headers) => handler(new Request(`http://localhost${path}`, { method, headers })),
      close: async () => {},
    };
  });
});

describe("fetch carrier", () => {
  it("appends Set-Cookie to a Response whose headers are immutable", () => {
    const redirect = Response.redirect("http://localhost/next", 303);
    const out = appendSetCookie(redirect, "session=x; Path=/", true);
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("http://localhost/next");
    expect(out.headers.getSetCookie()).toEqual(["session=x; Path=/"]);
    expect(out.headers.get("cache-control")).toBe("no-store");
  });

  it("keeps the Set-Cookie headers the handler set", () => {
    const headers = new Headers([
      ["Set-Cookie", "a=1"],
      ["Set-Cookie", "b=2"],
    ]);
    const out = appendSetCookie(new Response("ok", { headers }), "session=x", false);
    expect(out.headers.getSetCookie()).toEqual(["a=1", "b=2", "session=x"]);
    expect(out.headers.get("cache-control")).toBeNull();
  });
});
