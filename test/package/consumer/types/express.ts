/**
 * Express with express-session's types in the program too (@types/express-session is
 * installed): pgsession/express compiles next to them, req.session is typed by the
 * registered data, and a PgSessionStore is an express-session Store.
 */
import express from "express";
import session, { type Store } from "express-session";
import { createSessions } from "pgsession";
import { PgSessionStore, sessionMiddleware } from "pgsession/express";
import { expectType } from "./register.js";

const app = express();
app.use(sessionMiddleware(createSessions()));
app.get("/", (req, res, next) => {
  const visits = expectType<number | undefined>(req.session.get("visits"));
  req.session.set("visits", (visits ?? 0) + 1);
  // @ts-expect-error a key AppData does not have
  req.session.get("nope");
  // @ts-expect-error visits is a number
  req.session.set("visits", "one");
  req.session.login("ada").then(() => res.json({ visits, user: req.session.userId }), next);
});

// Where an app on express-session imports the store from pgsession/express.
const store: Store = new PgSessionStore({ conString: "postgres://localhost/app", ttl: 3600 });
app.use(session({ store, secret: "secret", resave: false, saveUninitialized: false }));
