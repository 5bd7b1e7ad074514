/** createSessions() and the root's types take the registered data. */
import { createSessions, type RegisteredSessionData, type Session } from "pgsession";
import { expectType, type AppData } from "./register.js";

export async function core(): Promise<void> {
  const sessions = createSessions();
  const session = await sessions.resolve(undefined);
  expectType<Session<AppData>>(session);
  expectType<AppData>({} as RegisteredSessionData);
  expectType<number | undefined>(session.get("visits"));
  // @ts-expect-error a key AppData does not have
  session.get("nope");
  // An explicit type argument still wins.
  const other = createSessions<{ cart: string[] }>();
  expectType<string[] | undefined>((await other.resolve(undefined)).get("cart"));
}
