/**
 * The demo app's routes, as a handler for `pgsession/node`'s `withSession`: the adapter
 * resolves the session before the handler runs and commits it before the response's
 * headers go out, so every redirect below is sent only once its write is stored.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Session } from "../../session/session.js";
import { cookieMaxAge } from "../../session/timeouts.js";
import type { Sessions } from "../../manager/manager.js";
import { describeUserAgent } from "../user-agent.js";
import { describeCookie } from "./cookie-facts.js";
import { csrfProblem, csrfTokenOf, ensureCsrfToken, type CsrfData } from "./csrf.js";
import { escapeHtml, renderPage, type PageView } from "./page.js";
import { STYLESHEET } from "./style.js";

/** What the demo keeps in a session: the counter, and the message for the next page view. */
export type DemoData = CsrfData & { count?: number; flash?: string };

/** Options of {@link createDemoHandler}. */
export interface DemoAppOptions {
  sessions: Sessions<DemoData>;
  /** Shown in the page header: "PGlite" or "PostgreSQL". */
  database: string;
}

const NOTICES = {
  "signed-in": { text: "Signed in. The session token was rotated at login.", error: false },
  "signed-out": { text: "Signed out: the session's row is deleted, so its token no longer works anywhere.", error: false },
  revoked: { text: "That device is signed out: its next request gets a new, anonymous session.", error: false },
  "revoked-others": { text: "Every other device is signed out.", error: false },
  "not-yours": { text: "That session is not one of yours (or is already gone).", error: true },
  "bad-name": { text: "Enter a name of 1 to 40 characters.", error: true },
} as const satisfies Record<string, { text: string; error: boolean }>;

type Notice = keyof typeof NOTICES;

const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
};

const MAX_BODY = 8 * 1024;

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": type, "Cache-Control": "no-store", ...headers });
  res.end(body);
}

function redirect(res: ServerResponse): void {
  res.writeHead(303, { ...SECURITY_HEADERS, Location: "/", "Cache-Control": "no-store" });
  res.end();
}

/**
 * Leaves a one-time message for the next page view in the session, not in the URL, where it
 * would come back with every reload or shared link. After a logout this stores a new,
 * anonymous session: it gets a CSRF token like any stored session.
 */
function flash(session: Session<DemoData>, notice: Notice): void {
  ensureCsrfToken(session);
  session.set("flash", notice);
}

/** Reads and deletes the message a form post left; the deletion is this page view's only write. */
function takeFlash(session: Session<DemoData>): (typeof NOTICES)[Notice] | null {
  const key = session.get("flash");
  if (key === undefined) return null;
  session.delete("flash");
  return Object.hasOwn(NOTICES, key) ? NOTICES[key as Notice] : null;
}

function refuse(res: ServerResponse, status: number, message: string): void {
  send(
    res,
    status,
    "text/html; charset=utf-8",
    `<!doctype html><meta charset="utf-8"><title>${status}</title><link rel="stylesheet" href="/style.css">` +
      `<main class="wrap"><section class="card"><h2>Request refused</h2><p>${escapeHtml(message)}</p><p><a href="/">Back to the demo</a></p></section></main>`,
  );
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | null> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return null;
  let body = "";
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_BODY) return null;
  }
  return new URLSearchParams(body);
}

function isTls(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true;
}

/** This server's origin as the browser sees it. */
function originOf(req: IncomingMessage): string {
  return `${isTls(req) ? "https" : "http"}://${req.headers.host ?? ""}`;
}

/**
 * The demo's request handler.
 *
 * @example
 * ```ts
 * createServer(withSession(sessions, createDemoHandler({ sessions, database: "PGlite" })));
 * ```
 */
export function createDemoHandler(options: DemoAppOptions) {
  const { sessions } = options;

  async function page(req: IncomingMessage, res: ServerResponse, session: Session<DemoData>): Promise<void> {
    const now = new Date();
    // A HEAD request shows nothing: the message waits for the GET.
    const notice = req.method === "GET" ? takeFlash(session) : null;
    const user = session.userId;
    const devices = user === null ? [] : await sessions.listUserSessions(user, { current: session });
    const remember = session.remember;
    const view: PageView = {
      user,
      remember,
      count: session.get("count") ?? 0,
      csrf: csrfTokenOf(session),
      // This device first, then the others, most recently seen first.
      devices: [...devices]
        .sort((a, b) => Number(b.current) - Number(a.current))
        .map((d) => ({
          id: d.id,
          device: describeUserAgent(d.userAgent),
          ip: d.ip ?? "-",
          createdAt: d.authenticatedAt ?? d.createdAt,
          lastSeenAt: d.lastSeenAt,
          expiresAt: d.expiresAt,
          current: d.current,
        })),
      cookie: describeCookie(sessions.options.cookie, {
        secure: isTls(req),
        remember,
        maxAgeMs:
          cookieMaxAge({ remember: true, absoluteExpiresAt: session.absoluteExpiresAt }, sessions.options.cookie.maxAgeMs, now) ?? null,
      }),
      notice,
      database: options.database,
      stored: session.isNew
        ? null
        : { id: session.id, expiresAt: session.expiresAt, absoluteExpiresAt: session.absoluteExpiresAt, remember },
      now,
    };
    send(res, 200, "text/html; charset=utf-8", renderPage(view));
  }

  async function act(path: string, form: URLSearchParams, res: ServerResponse, session: Session<DemoData>): Promise<void> {
    switch (path) {
      case "/login": {
        const name = (form.get("name") ?? "").trim();
        if (name.length === 0 || name.length > 40 || /[\u0000-\u001f\u007f]/.test(name)) {
          flash(session, "bad-name");
          return redirect(res);
        }
        ensureCsrfToken(session, true);
        // Set before login(), whose statement stores the pending changes too: one write.
        flash(session, "signed-in");
        await session.login(name, { remember: form.get("remember") === "1" });
        return redirect(res);
      }
      case "/count":
        ensureCsrfToken(session);
        session.set("count", (session.get("count") ?? 0) + 1);
        return redirect(res);
      case "/logout":
        await session.logout();
        flash(session, "signed-out");
        return redirect(res);
      case "/revoke": {
        const id = form.get("id") ?? "";
        if (session.userId === null) return redirect(res);
        if (id === session.id) {
          await session.logout();
          flash(session, "signed-out");
          return redirect(res);
        }
        // Only the user's own sessions: a public id alone must not let anyone end another user's session.
        const mine = await sessions.listUserSessions(session.userId);
        const revoked = mine.some((s) => s.id === id) && (await sessions.revokeSession(id));
        flash(session, revoked ? "revoked" : "not-yours");
        return redirect(res);
      }
      case "/revoke-others":
        if (session.userId === null) return redirect(res);
        await sessions.revokeUserSessions(session.userId, { except: session });
        flash(session, "revoked-others");
        return redirect(res);
      default:
        return refuse(res, 404, "There is no such form.");
    }
  }

  return async function demoHandler(req: IncomingMessage, res: ServerResponse, session: Session<DemoData>): Promise<void> {
    const url = new URL(req.url ?? "/", "http://demo.invalid");
    if (req.method === "GET" || req.method === "HEAD") {
      if (url.pathname === "/") return page(req, res, session);
      if (url.pathname === "/style.css")
        return send(res, 200, "text/css; charset=utf-8", STYLESHEET, { "Cache-Control": "public, max-age=300" });
      if (url.pathname === "/favicon.ico") return send(res, 204, "image/x-icon", "");
      return refuse(res, 404, "Nothing here.");
    }
    if (req.method !== "POST") return refuse(res, 405, "Only GET and POST are used here.");
    const form = await readForm(req);
    if (form === null) return refuse(res, 400, "Expected a small URL-encoded form.");
    const problem = csrfProblem(req, form.get("csrf"), session, originOf(req));
    if (problem) return refuse(res, 403, problem);
    return act(url.pathname, form, res, session);
  };
}
