/** node:http: the handler's session is typed by the registered data. */
import { createServer } from "node:http";
import { createSessions } from "pgsession";
import { withSession } from "pgsession/node";
import { expectType } from "./register.js";

createServer(
  withSession(createSessions(), (_req, res, session) => {
    const visits = expectType<number | undefined>(session.get("visits"));
    // @ts-expect-error visits is a number
    session.set("visits", "one");
    res.end(String(visits));
  }),
);
