/**
 * The proxy (Next 16's name for middleware; it runs on Node.js): a first, early check that
 * refuses anonymous visitors before any page renders. It reads the session read-only (one
 * query, no touch, no cookie), so it cannot keep a session alive or rotate it: the pages
 * and actions behind it still read the session themselves, and check it again.
 */
import { NextResponse, type NextRequest } from "next/server";
import { readSession } from "pgsession/next";
import { sessions } from "./lib/sessions";

export async function proxy(request: NextRequest): Promise<Response> {
  try {
    const session = await readSession(sessions);
    if (!session.isAuthenticated) return NextResponse.redirect(new URL("/", request.url), 303);
  } catch (err) {
    // The database is down: 503, the cookie left alone, never a redirect that logs out.
    if ((err as { code?: unknown }).code === "ERR_SESSION_STORE")
      return new Response("Service Unavailable: the session store cannot be reached\n", { status: 503, headers: { "retry-after": "5" } });
    throw err;
  }
  return NextResponse.next();
}

export const config = { matcher: "/private/:path*" };
