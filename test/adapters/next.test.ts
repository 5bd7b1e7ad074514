/**
 * pgsession/next's Route Handler wrapper, called as Next calls it: a NextRequest and the
 * route context. (readSession and updateSession run on Next's request scope, which exists
 * only inside a Next server: test/frameworks/next-build.test.ts drives them there.)
 */
import { NextRequest, NextResponse } from "next/server.js";
import { describe, expect, it } from "vitest";
import { withSession } from "../../src/adapters/next.js";
import { SessionConfigError } from "../../src/errors.js";
import { runAdapterContract } from "./contract.js";
import { handleRoute } from "./routes.js";

type RouteContext = { params: Promise<{ path: string }> };

describe("pgsession/next route handlers", () => {
  runAdapterContract("next", async (sessions) => {
    const handler = withSession(sessions, async (request: NextRequest, session, context: RouteContext) => {
      expect((await context.params).path).toBe(request.nextUrl.pathname);
      const answer = await handleRoute(sessions, request.method, `${request.nextUrl.pathname}${request.nextUrl.search}`, session);
      const response = NextResponse.json(answer.body, { status: answer.status });
      if (answer.cookie) response.headers.set("set-cookie", answer.cookie);
      if (answer.cacheControl) response.headers.set("cache-control", answer.cacheControl);
      return response;
    });
    return {
      send: (method, path, headers) => {
        const request = new NextRequest(`http://localhost${path}`, { method, headers });
        return handler(request, { params: Promise.resolve({ path: request.nextUrl.pathname }) });
      },
      close: async () => {},
    };
  });

  it("refuses a misspelled option or a missing handler when the route is defined", () => {
    const sessions = { resolve() {}, commit() {} } as never;
    expect(() => withSession(sessions, (() => new Response()) as never, { onStoreErorr: () => new Response() } as never)).toThrow(
      SessionConfigError,
    );
    expect(() => withSession(sessions, undefined as never)).toThrow(SessionConfigError);
  });
});
