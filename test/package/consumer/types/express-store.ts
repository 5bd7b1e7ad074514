/**
 * An app on express-session (its SessionData augmented, as its README shows) switching
 * its store to pgsession's: `new PgSessionStore(...)` goes where a Store is expected.
 */
import express from "express";
import session from "express-session";
import { PgSessionStore } from "pgsession/express-session";

declare module "express-session" {
  interface SessionData {
    views: number;
  }
}

const app = express();
app.use(
  session({
    store: new PgSessionStore({ conString: "postgres://localhost/app" }),
    secret: "secret",
    resave: false,
    saveUninitialized: false,
  }),
);
app.get("/", (req, res) => {
  req.session.views = (req.session.views ?? 0) + 1;
  res.json({ views: req.session.views });
});
