/**
 * Internal: the plain answers adapters send when the session cannot be read or written
 * (status, headers, body). Which one a failure gets, and with which cookie, is decided in
 * `failure.ts` alone.
 * @module
 */

/** A response as plain values, for any runtime to send. */
export interface PlainAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

const TEXT: [string, string] = ["Content-Type", "text/plain; charset=utf-8"];
const NO_STORE: [string, string] = ["Cache-Control", "no-store"];

/** The Set-Cookie header of an answer, when there is a cookie to send. */
function cookieHeader(setCookie: string | null): Array<[string, string]> {
  return setCookie === null ? [] : [["Set-Cookie", setCookie]];
}

/** 503 for a `SessionStoreError`, with `setCookie` if any. */
export function storeErrorAnswer(setCookie: string | null): PlainAnswer {
  return {
    status: 503,
    headers: [TEXT, ["Retry-After", "5"], NO_STORE, ...cookieHeader(setCookie)],
    body: "Service Unavailable: the session store cannot be reached\n",
  };
}

/** 409 for a `SessionConflictError`, with `setCookie` if any. */
export function conflictAnswer(setCookie: string | null): PlainAnswer {
  return {
    status: 409,
    headers: [TEXT, NO_STORE, ...cookieHeader(setCookie)],
    body: "Conflict: another request changed this session first; nothing was saved. Try again.\n",
  };
}

/** 409 for a `SessionGoneError` at commit, with `clearingCookie`. */
export function goneAnswer(clearingCookie: string): PlainAnswer {
  return {
    status: 409,
    headers: [TEXT, NO_STORE, ["Set-Cookie", clearingCookie]],
    body: "Conflict: the session ended while this request ran; nothing was saved\n",
  };
}

/** 500 (or `status`) for an error the adapter must answer itself after the framework's error chain moved on. */
export function serverErrorAnswer(status = 500): PlainAnswer {
  return { status, headers: [TEXT], body: "Internal Server Error\n" };
}
