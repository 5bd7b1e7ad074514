/**
 * Internal: how pgsession writes a fetch `Response`: one more Set-Cookie beside the app's,
 * or a whole answer of its own. A Response is only sent once the handler returned it, so
 * nothing can have gone out yet.
 * @module
 */
import { forbidsSharedCaching, NO_STORE } from "../shared/cache-control.js";
import type { PlainAnswer } from "../shared/failure.js";

/** A Response from plain values. */
export function toResponse(answer: PlainAnswer): Response {
  const headers = new Headers();
  for (const [name, value] of answer.headers) headers.append(name, value);
  return new Response(answer.body, { status: answer.status, headers });
}

/**
 * `response` with one more Set-Cookie (a copy when its headers are immutable, as after
 * `Response.redirect`). With `noStore`, also `Cache-Control: no-store` unless its own
 * Cache-Control keeps it out of shared caches (see `shared/cache-control.ts`).
 */
export function appendSetCookie(response: Response, value: string, noStore: boolean): Response {
  try {
    addCookie(response.headers, value, noStore);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    addCookie(copy.headers, value, noStore);
    return copy;
  }
}

/** Appends the Set-Cookie `value` to `headers`, and with `noStore` the Cache-Control rule of {@link appendSetCookie}. */
export function addCookie(headers: Headers, value: string, noStore: boolean): void {
  headers.append("Set-Cookie", value);
  if (noStore && !forbidsSharedCaching(headers.get("cache-control"))) headers.set("Cache-Control", NO_STORE);
}
