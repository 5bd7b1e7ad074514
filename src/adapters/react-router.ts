/**
 * `pgsession/react-router`: a React Router 7 session storage backed by pgsession. An app
 * that calls `getSession`, `commitSession` and `destroySession` switches by changing the
 * line that creates the storage.
 *
 * The sessions are React Router's own (`createSession`: `isSession` accepts them, flash
 * values are read once); the cookie is pgsession's: a random token whose hash alone is
 * stored, rotated at login, never issued before it is stored. `commitSession` writes only
 * the keys that changed. Apps reach pgsession's `login`, `logout` and `rotate` through
 * {@link pgSessionOf}.
 * @module
 */
import { createSession, type Session as RouterSession, type SessionData as RouterSessionData, type SessionStorage } from "react-router";
import type { Sessions } from "../manager/manager.js";
import { serializeSessionCookie } from "../session/cookie.js";
import type { RequestContext, Session, SessionData } from "../session/session.js";
import { failureResponse, type FetchSessionOptions } from "./fetch/run.js";
import { readFetchRequest } from "./fetch/read-request.js";
import { addCookie } from "./fetch/write-response.js";
import { carryOver, linkOf, linkSession, textsOf } from "./react-router/link.js";
import { checkOptions, checkSessions, FAILURE_OPTIONS } from "./shared/options.js";

export type { FetchErrorHandler, FetchSessionOptions as ReactRouterSessionOptions } from "./fetch/run.js";

/**
 * What `commitSession` returns when there is nothing to send: the session cookie stays as
 * it is (nothing changed), or there is none (a visitor who stored nothing). Apps put that
 * result into a `Set-Cookie` header unconditionally, so it is a valid header that changes
 * nothing: the deletion of a cookie no one has. Never the session cookie itself, which a
 * response resent late could turn back to a token a login or rotation replaced meanwhile.
 * {@link PgSessionStorage.commitHeaders} sends no header at all then.
 *
 * @example
 * ```ts
 * const setCookie = await commitSession(session);
 * if (setCookie !== UNCHANGED_COOKIE) console.log("the session cookie changed");
 * ```
 */
export const UNCHANGED_COOKIE = "pgsession-unchanged=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax";

/**
 * Options of `getSession`. React Router's cookie parse options (`decode`) are accepted and
 * ignored: pgsession's token needs no decoding.
 *
 * @example
 * ```ts
 * const session = await getSession(request, { ip: context.ip });
 * ```
 */
export interface GetSessionOptions {
  /** The client's address, when the server tells it (a Request does not carry it); `trustProxy` may take it from `X-Forwarded-For` instead. */
  ip?: string | null | undefined;
  /** Read the session from the database even when the read cache holds it (see `fresh` of the adapter options). */
  fresh?: boolean | undefined;
  /** React Router's cookie decoder: ignored. */
  decode?: unknown;
}

/**
 * React Router's `SessionStorage`, backed by pgsession, with two additions: headers for a
 * response (`commitHeaders`) and the answer to pgsession's failures (`failureResponse`).
 * Its functions do not use `this`: destructure them as React Router's docs do.
 *
 * @example
 * ```ts
 * const { getSession, commitSession, destroySession } = createPgSessionStorage(sessions);
 * ```
 */
export interface PgSessionStorage<Data = RouterSessionData, FlashData = Data> extends SessionStorage<Data, FlashData> {
  /**
   * The session of a request: from its `Cookie` header, as React Router's storages take
   * it, or from the `Request` itself (recommended), which also tells pgsession whether the
   * request is secure (`cookie.secure: "auto"`), its user agent, and behind `trustProxy`
   * its address. Given only a header, the request counts as not secure: `"auto"` then sends
   * no `Secure` attribute (unless the cookie name's prefix or `sameSite: "none"` needs
   * one), so pass the Request or configure `cookie.secure: true`. A visitor without a
   * session gets a new one, with `id` `""` until it is stored. Rejects with
   * `SessionStoreError` when the database fails.
   */
  getSession: (input?: string | null | Request, options?: GetSessionOptions) => Promise<RouterSession<Data, FlashData>>;
  /**
   * Writes the keys that changed (nothing when none did) and resolves to the `Set-Cookie`
   * value: the session cookie when it must be (re)sent (a new session, a login, a
   * rotation), else {@link UNCHANGED_COOKIE}. Cookie options are ignored: the cookie is
   * configured in `createSessions`. Rejects with `SessionStoreError` (database down),
   * `SessionGoneError` (the session ended meanwhile) or `SessionConflictError`.
   */
  commitSession: (session: RouterSession<Data, FlashData>, options?: unknown) => Promise<string>;
  /**
   * Logs out: deletes the session in the database, and resolves to the cookie that clears
   * it. Cookie options are ignored. Rejects with `SessionStoreError` when the database fails.
   */
  destroySession: (session: RouterSession<Data, FlashData>, options?: unknown) => Promise<string>;
  /**
   * Commits like `commitSession`, and resolves to the headers of a response: `init` plus
   * the `Set-Cookie` only when there is one to send, then with `Cache-Control: no-store`
   * (unless `init` keeps the response out of shared caches already, or `noStore` is off).
   */
  commitHeaders: (session: RouterSession<Data, FlashData>, init?: ConstructorParameters<typeof Headers>[0]) => Promise<Headers>;
  /**
   * The Response pgsession answers to one of its failures, thrown while serving `request`:
   * 503 for `SessionStoreError`, 409 (clearing the cookie) for `SessionGoneError`, 409 for
   * `SessionConflictError`, or the adapter options' `onStoreError`/`onSessionGone`. It
   * carries the cookie of a login already stored, if any. Null for any other error.
   */
  failureResponse: (err: unknown, request: Request) => Promise<Response | null>;
}

function isRequest(input: unknown): input is Request {
  const candidate = input as Request | null;
  return (
    typeof candidate === "object" && candidate !== null && typeof candidate.url === "string" && typeof candidate.headers?.get === "function"
  );
}

/**
 * Creates a React Router session storage on pgsession's sessions. Options: `trustProxy`,
 * `fresh` (a Request predicate), `onStoreError` and `onSessionGone` (for `failureResponse`);
 * anything else throws `SessionConfigError`.
 *
 * @example
 * ```ts
 * import { createPgSessionStorage, pgSessionOf } from "pgsession/react-router";
 * export const { getSession, commitSession, destroySession } = createPgSessionStorage(sessions);
 *
 * export async function action({ request }: Route.ActionArgs) {
 *   const session = await getSession(request);
 *   await pgSessionOf(session).login(userId); // a new token, the user bound
 *   session.flash("message", "Signed in");
 *   return redirect("/", { headers: { "Set-Cookie": await commitSession(session) } });
 * }
 * ```
 */
export function createPgSessionStorage<Data = RouterSessionData, FlashData = Data>(
  sessions: Sessions<object>,
  options: FetchSessionOptions = {},
): PgSessionStorage<Data, FlashData> {
  checkSessions(sessions);
  checkOptions(options, FAILURE_OPTIONS, "createPgSessionStorage");
  const trustProxy = options.trustProxy ?? sessions.options.trustProxy ?? false;
  // The session each Request resolved, so that a failure's answer carries its stored login.
  const byRequest = new WeakMap<Request, object>();

  const commit = (session: RouterSession<Data, FlashData>): Promise<string | null> => {
    const link = linkOf(session);
    carryOver(link, session.data as Record<string, unknown>);
    return sessions.commit(link.pg);
  };

  return {
    async getSession(input, getOptions = {}) {
      let cookieHeader: string | null;
      let context: RequestContext;
      if (isRequest(input)) {
        ({ cookieHeader, context } = readFetchRequest(input, trustProxy, getOptions.ip));
        if (options.fresh?.(input) === true) context.fresh = true;
      } else if (typeof input === "string" || input === null || input === undefined) {
        cookieHeader = input ?? null;
        context = { ip: getOptions.ip };
      } else {
        throw new TypeError("pgsession: getSession takes a Cookie header or a Request");
      }
      if (getOptions.fresh === true) context.fresh = true;
      const pg = (await sessions.resolve(cookieHeader, context)) as Session<SessionData>;
      const session = createSession<Data, FlashData>(pg.toJSON() as Data, pg.isNew ? "" : pg.id);
      linkSession(session, pg, context.secure === true);
      if (isRequest(input)) byRequest.set(input, session);
      return session;
    },
    async commitSession(session) {
      return (await commit(session)) ?? UNCHANGED_COOKIE;
    },
    async commitHeaders(session, init) {
      const headers = new Headers(init);
      const setCookie = await commit(session);
      if (setCookie !== null) addCookie(headers, setCookie, sessions.options.noStore);
      return headers;
    },
    async destroySession(session) {
      const link = linkOf(session);
      await link.pg.logout();
      // What the app held is gone with the session: only changes made after this count.
      link.texts = textsOf(session.data as Record<string, unknown>);
      const setCookie = await sessions.commit(link.pg);
      return setCookie ?? serializeSessionCookie(sessions.options.cookie, { value: "", maxAgeMs: 0, secure: link.secure, now: new Date() });
    },
    async failureResponse(err, request) {
      const session = byRequest.get(request);
      const link = session === undefined ? undefined : linkOf(session);
      const secure = link?.secure ?? readFetchRequest(request, trustProxy).context.secure === true;
      return failureResponse(err, { sessions, session: link?.pg, secure }, options, request);
    },
  };
}

/**
 * The pgsession session behind a React Router session from a pgsession storage, with the
 * React Router session's changes so far carried over: for `login` (a new token and the
 * user bound: call it at sign-in, rather than only storing a user id, so that a token
 * from before the sign-in is worthless), `logout`, `rotate`, and the metadata (`userId`,
 * `isAuthenticated`, `expiresAt`, ...). Read and write data through the React Router
 * session. Throws `TypeError` for any other object.
 *
 * @example
 * ```ts
 * const session = await getSession(request);
 * await pgSessionOf(session).login(user.id, { remember: true });
 * return redirect("/", { headers: { "Set-Cookie": await commitSession(session) } });
 * ```
 */
export function pgSessionOf(session: object): Session<SessionData> {
  const link = linkOf(session);
  carryOver(link, (session as RouterSession).data);
  return link.pg;
}
