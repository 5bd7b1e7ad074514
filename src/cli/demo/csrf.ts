/**
 * Cross-site request forgery protection for the demo's forms, in two layers:
 *
 * 1. Every POST must come from this origin: `Sec-Fetch-Site: same-origin` when the browser
 *    sends it (all current browsers do), else an `Origin` equal to this server's origin.
 *    A request with neither is refused: it is not a browser form post from this page.
 * 2. Once a session is stored, it holds a random token that every form carries in a hidden
 *    field; a POST with a stored session must present it (compared in constant time).
 * @module
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Session } from "../../session/session.js";

/** Session data holding the CSRF token. */
export type CsrfData = { csrf?: string };

/** Gives the session a CSRF token if it has none, or a new one (`renew`, on login). */
export function ensureCsrfToken<D extends CsrfData>(session: Session<D>, renew = false): string {
  const current = session.get("csrf");
  if (typeof current === "string" && !renew) return current;
  const token = randomBytes(24).toString("base64url");
  session.set("csrf", token as D["csrf"]);
  return token;
}

/** The session's CSRF token, or null while it has none (nothing stored yet). */
export function csrfTokenOf<D extends CsrfData>(session: Session<D>): string | null {
  const token = session.get("csrf");
  return typeof token === "string" ? token : null;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Why a POST must be refused, or null when it passes both checks.
 *
 * @example
 * ```ts
 * const reason = csrfProblem(req, form.get("csrf"), session, "http://127.0.0.1:3000");
 * if (reason) { res.writeHead(403); res.end(reason); }
 * ```
 */
export function csrfProblem<D extends CsrfData>(
  req: IncomingMessage,
  formToken: string | null,
  session: Session<D>,
  origin: string,
): string | null {
  const site = req.headers["sec-fetch-site"];
  const requestOrigin = req.headers.origin;
  if (typeof site === "string") {
    if (site !== "same-origin") return `cross-site form post refused (Sec-Fetch-Site: ${site})`;
  } else if (typeof requestOrigin === "string") {
    if (requestOrigin !== origin) return "cross-site form post refused (Origin does not match)";
  } else {
    return "form post refused: the browser sent neither Sec-Fetch-Site nor Origin";
  }
  const expected = csrfTokenOf(session);
  if (!session.isNew && expected !== null && (formToken === null || !sameText(formToken, expected))) {
    return "form post refused: the CSRF token is missing or does not match this session (reload the page)";
  }
  return null;
}
