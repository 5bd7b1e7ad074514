/**
 * Compile-only: the README's one-line switch from connect-pg-simple type-checks against
 * express-session's own types, with the store found by itself or handed `session`.
 */
import express from "express";
import session from "express-session";
import pg from "pg";
import { PgSessionStore } from "pgsession/express-session";

const pool = new pg.Pool();
const app = express();
app.use(session({ store: new PgSessionStore({ pool }), secret: "secret", resave: false, saveUninitialized: false }));
app.use(session({ store: new PgSessionStore({ pool, session, ttl: 3600, absoluteTtl: 30 * 86_400 }), secret: "secret" }));

const store: session.Store = new PgSessionStore({ pool });
store.get("sid", (_err, stored) => stored?.cookie.maxAge);
