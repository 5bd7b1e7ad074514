/** fetch runtimes: the handler's session is typed by the registered data. */
import { createSessions } from "pgsession";
import { withSession } from "pgsession/fetch";
import { expectType } from "./register.js";

export const POST = withSession(createSessions(), async (_request, session) => {
  const visits = expectType<number | undefined>(session.get("visits"));
  // @ts-expect-error a key AppData does not have
  session.set("nope", 1);
  return Response.json({ visits });
});
