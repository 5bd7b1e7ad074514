"use server";
/**
 * A Server Action: `updateSession` resolves the session through Next's `cookies()`,
 * commits what the callback changed, and sets the cookie with pgsession's attributes.
 */
import { updateSession } from "pgsession/next";
import { sessions } from "../lib/sessions";

export async function increment(): Promise<void> {
  await updateSession(sessions, (session) => {
    session.set("count", (session.get("count") ?? 0) + 1);
  });
}
