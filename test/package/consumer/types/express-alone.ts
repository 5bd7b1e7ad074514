/**
 * Express without express-session's types in the program (tsconfig.express-alone.json):
 * req.session is pgsession's session alone.
 */
import express from "express";
import { createSessions, type Session } from "pgsession";
import { sessionMiddleware } from "pgsession/express";
import { expectType, type AppData } from "./register.js";

const app = express();
app.use(sessionMiddleware(createSessions()));
app.get("/", (req, res) => {
  expectType<Session<AppData>>(req.session);
  // @ts-expect-error express-session's regenerate is not there
  req.session.regenerate(() => {});
  res.json({ visits: req.session.get("visits") });
});
