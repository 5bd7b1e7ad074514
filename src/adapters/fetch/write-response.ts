/**
 * Internal: how pgsession writes a fetch `Response`: one more Set-Cookie beside the app's,
 * or a whole answer of its own. A Response is only sent once the handler returned it, so
 * nothing can have gone out yet.
 * @module
 */
import type { PlainAnswer } from "../shared/failure.js";

/** A Response from plain values. */
export function toResponse(answer: PlainAnswer): Response {
  const headers = new Headers();
  for (const [name, value] of answer.headers) headers.append(name, value);
  return new Response(answer.body, { status: answer.status, headers });
}

/** `response` with one more Set-Cookie (a copy when its headers are immutable, as after `Response.redirect`). */
export function appendSetCookie(response: Response, value: string): Response {
  try {
    response.headers.append("Set-Cookie", value);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.append("Set-Cookie", value);
    return copy;
  }
}
