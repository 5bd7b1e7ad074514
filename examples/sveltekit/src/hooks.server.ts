import { redirect, type Handle } from "@sveltejs/kit";
import { sequence } from "@sveltejs/kit/hooks";
import { sessionHandle } from "pgsession/sveltekit";
import { sessions } from "$lib/server/sessions";

/** Pages under /account are for signed-in users: runs after sessionHandle, so locals.session is there. */
const signedIn: Handle = ({ event, resolve }) => {
  if (event.url.pathname.startsWith("/account") && !event.locals.session.isAuthenticated) redirect(303, "/");
  return resolve(event);
};

export const handle = sequence(sessionHandle(sessions), signedIn);
