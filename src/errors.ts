/**
 * The error hierarchy of pgsession. Callers branch on `code`, never on messages.
 *
 * @example
 * ```ts
 * import { SessionStoreError } from "pgsession/errors";
 * try { await sessions.resolve(header); }
 * catch (err) { if (err instanceof SessionStoreError) return new Response(null, { status: 503 }); throw err; }
 * ```
 * @module
 */

/** Every stable error code pgsession throws. */
export type SessionErrorCode =
  | "ERR_SESSION_CONFIG"
  | "ERR_SESSION_STORE"
  | "ERR_SESSION_DATA_TOO_LARGE"
  | "ERR_SESSION_DATA_INVALID"
  | "ERR_SESSION_GONE"
  | "ERR_SESSION_CONFLICT"
  | "ERR_SESSION_REAUTH_REQUIRED"
  | "ERR_SESSION_READ_ONLY";

/**
 * Base class of every error pgsession throws.
 *
 * @example
 * ```ts
 * if (err instanceof SessionError && err.code === "ERR_SESSION_GONE") { ... }
 * ```
 */
export class SessionError extends Error {
  /** A stable, machine-readable code. */
  readonly code: SessionErrorCode;

  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Invalid options, thrown when sessions are created (never per request).
 *
 * @example
 * ```ts
 * createSessions({ idleTimeout: "soon" }); // throws SessionConfigError, option "idleTimeout"
 * ```
 */
export class SessionConfigError extends SessionError {
  /** The stable code of this error. */
  declare readonly code: "ERR_SESSION_CONFIG";
  /** The option at fault, as a dotted path (`cookie.sameSite`). */
  readonly option: string;

  constructor(option: string, message: string) {
    super("ERR_SESSION_CONFIG", `pgsession: invalid option ${option}: ${message}`);
    this.option = option;
  }
}

/**
 * The database could not be reached or refused a statement. Adapters turn this into a
 * 503; it never means "no session".
 *
 * @example
 * ```ts
 * if (err instanceof SessionStoreError) console.error(err.sqlState, err.cause);
 * ```
 */
export class SessionStoreError extends SessionError {
  /** The stable code of this error. */
  declare readonly code: "ERR_SESSION_STORE";
  /** PostgreSQL's SQLSTATE (for example `57014` for a statement timeout), when the server sent one. */
  readonly sqlState: string | undefined;
  /** The HTTP status to answer with (503); Express and Fastify error handlers read it. */
  readonly statusCode = 503;

  constructor(message: string, options: { cause?: unknown; sqlState?: string | undefined } = {}) {
    super("ERR_SESSION_STORE", message, { cause: options.cause });
    this.sqlState = options.sqlState;
  }
}

/**
 * The session data would exceed `maxDataSize` once serialized.
 *
 * @example
 * ```ts
 * session.set("blob", "x".repeat(100_000));
 * await sessions.commit(session); // throws SessionDataTooLargeError
 * ```
 */
export class SessionDataTooLargeError extends SessionError {
  /** The stable code of this error. */
  declare readonly code: "ERR_SESSION_DATA_TOO_LARGE";
  /** Serialized size in bytes. */
  readonly size: number;
  /** The configured limit in bytes. */
  readonly limit: number;

  constructor(size: number, limit: number) {
    super("ERR_SESSION_DATA_TOO_LARGE", `pgsession: session data is ${size} bytes, over the limit of ${limit} bytes (maxDataSize)`);
    this.size = size;
    this.limit = limit;
  }
}

/**
 * A value that JSON cannot carry (BigInt, a function, a symbol, a cycle) or a bad key.
 *
 * @example
 * ```ts
 * session.set("n", 10n); // throws SessionDataError
 * ```
 */
export class SessionDataError extends SessionError {
  /** The stable code of this error. */
  declare readonly code: "ERR_SESSION_DATA_INVALID";
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_SESSION_DATA_INVALID", `pgsession: ${message}`, options);
  }
}

/**
 * The session was logged out, revoked or expired while this request held it; the write
 * was not applied, and the session was not brought back.
 *
 * @example
 * ```ts
 * try { await sessions.commit(session); } catch (err) { if (err instanceof SessionGoneError) ... }
 * ```
 */
export class SessionGoneError extends SessionError {
  /** The stable code of this error. */
  declare readonly code: "ERR_SESSION_GONE";
  /** The HTTP status to answer with (409); Express and Fastify error handlers read it. */
  readonly statusCode = 409;

  constructor(message = "pgsession: the session no longer exists (logged out, revoked or expired); nothing was written") {
    super("ERR_SESSION_GONE", message);
  }
}

/**
 * A compare-and-set save found a newer version, or a rotation was attempted with a token
 * that another request had already rotated.
 *
 * @example
 * ```ts
 * await sessions.commit(session, { compareAndSet: true }); // may throw SessionConflictError
 * ```
 */
export class SessionConflictError extends SessionError {
  /** The stable code of this error. */
  declare readonly code: "ERR_SESSION_CONFLICT";
  /** The HTTP status to answer with (409); Express and Fastify error handlers read it. */
  readonly statusCode = 409;

  constructor(message: string) {
    super("ERR_SESSION_CONFLICT", `pgsession: ${message}`);
  }
}

/**
 * The action needs a login more recent than the session has (step-up authentication);
 * thrown by `requireRecentLogin`. Ask the user to log in again.
 *
 * @example
 * ```ts
 * try { requireRecentLogin(session, "10m"); }
 * catch (err) { if (err instanceof SessionReauthRequiredError) return redirect("/login?step-up"); throw err; }
 * ```
 */
export class SessionReauthRequiredError extends SessionError {
  /** The stable code of this error. */
  declare readonly code: "ERR_SESSION_REAUTH_REQUIRED";
  /** When the user last logged in, or null when nobody is logged in. */
  readonly authenticatedAt: Date | null;

  constructor(authenticatedAt: Date | null, maxAgeMs: number) {
    super(
      "ERR_SESSION_REAUTH_REQUIRED",
      authenticatedAt === null
        ? "pgsession: this action needs a logged-in user"
        : `pgsession: this action needs a login within the last ${Math.round(maxAgeMs / 1000)} s`,
    );
    this.authenticatedAt = authenticatedAt;
  }
}

/**
 * A change to a session resolved read-only (`readOnly: true` in the request context, as
 * `pgsession/next`'s `readSession` resolves it for React Server Components, which cannot
 * set a cookie): `set`, `delete`, `clear`, `login`, `rotate`, `logout` and `commit` refuse,
 * so that nothing is stored whose cookie could not reach the client. Change the session
 * where the response can carry a Set-Cookie.
 *
 * @example
 * ```ts
 * const session = await sessions.resolve(cookieHeader, { readOnly: true });
 * session.set("theme", "dark"); // throws SessionReadOnlyError, operation "set"
 * ```
 */
export class SessionReadOnlyError extends SessionError {
  /** The stable code of this error. */
  declare readonly code: "ERR_SESSION_READ_ONLY";
  /** What was refused: `"set"`, `"delete"`, `"clear"`, `"login"`, `"rotate"`, `"logout"` or `"commit"`. */
  readonly operation: string;

  constructor(operation: string) {
    super(
      "ERR_SESSION_READ_ONLY",
      `pgsession: cannot ${operation}: this session was resolved read-only (readOnly: true), where no Set-Cookie can be sent; ` +
        "change it where the response can carry a cookie (a Server Action or a Route Handler in Next.js)",
    );
    this.operation = operation;
  }
}

/**
 * Any error pgsession throws, as a union that narrows by `code`.
 *
 * @example
 * ```ts
 * function status(err: AnySessionError): number {
 *   switch (err.code) {
 *     case "ERR_SESSION_STORE": return 503; // err is SessionStoreError: err.sqlState is typed
 *     case "ERR_SESSION_GONE": case "ERR_SESSION_CONFLICT": return 409;
 *     default: return 500;
 *   }
 * }
 * ```
 */
export type AnySessionError =
  | SessionConfigError
  | SessionStoreError
  | SessionDataTooLargeError
  | SessionDataError
  | SessionGoneError
  | SessionConflictError
  | SessionReauthRequiredError
  | SessionReadOnlyError;
