/** Hono: c.get("session") and c.var.session are typed by the registered data, with no Variables named. */
import { Hono } from "hono";
import { createSessions } from "pgsession";
import { sessionMiddleware } from "pgsession/hono";
import { expectType } from "./register.js";

const app = new Hono();
app.use(sessionMiddleware(createSessions()));
app.get("/", (c) => {
  const visits = expectType<number | undefined>(c.get("session").get("visits"));
  c.var.session.set("visits", (visits ?? 0) + 1);
  // @ts-expect-error a key AppData does not have
  c.get("session").get("nope");
  return c.json({ visits });
});
