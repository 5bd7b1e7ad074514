/**
 * `pgsession/express-session`: only {@link PgSessionStore}, for apps on express-session
 * (and its types), with no declaration of `req.session`.
 *
 * @example
 * ```ts
 * import session from "express-session";
 * import { PgSessionStore } from "pgsession/express-session";
 * app.use(session({ store: new PgSessionStore({ pool }), secret, resave: false, saveUninitialized: false }));
 * ```
 * @module
 */
export {
  PgSessionStore,
  type PgSessionStoreOptions,
  type SessionToStore,
  type StoreCallback,
  type StoredCookie,
  type StoredExpressSession,
} from "./express-store.js";
