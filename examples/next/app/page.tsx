/**
 * A Server Component: it reads the session (read-only: a page cannot set a cookie, so no
 * Set-Cookie and no touch here) and renders the forms that change it.
 */
import { readSession } from "pgsession/next";
import { sessions } from "../lib/sessions";
import { increment } from "./actions";

export default async function Home() {
  const session = await readSession(sessions);
  return (
    <main>
      <p id="user">{session.isAuthenticated ? `Signed in as ${session.userId}` : "Not signed in"}</p>
      <p>
        Count: <b id="count">{session.get("count") ?? 0}</b>
      </p>
      <form action={increment}>
        <button>Count</button>
      </form>
      {session.isAuthenticated ? (
        <form method="post" action="/logout">
          <button>Log out</button>
        </form>
      ) : (
        <form method="post" action="/login">
          <input name="name" defaultValue="alice" aria-label="Name" /> <button>Log in</button>
        </form>
      )}
      <p>
        <a href="/private">The private page</a> (the proxy lets signed-in users in only)
      </p>
    </main>
  );
}
