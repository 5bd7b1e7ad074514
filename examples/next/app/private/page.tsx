/**
 * Behind the proxy (proxy.ts), which turns anonymous visitors away; the page checks again,
 * since a proxy's matcher is easy to get wrong and the session may end in between.
 */
import { redirect } from "next/navigation";
import { readSession } from "pgsession/next";
import { sessions } from "../../lib/sessions";

export default async function Private() {
  const session = await readSession(sessions);
  if (!session.isAuthenticated) redirect("/");
  return <p id="private">{`Private page of ${session.userId}`}</p>;
}
