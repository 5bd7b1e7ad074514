/** A Route Handler: `withSession` commits before the Response goes out, 503 when the database fails. */
import { withSession } from "pgsession/next";
import { crossSite, loginName, sessions } from "../../lib/sessions";

export const POST = withSession(sessions, async (request, session) => {
  const refused = crossSite(request);
  if (refused) return refused;
  await session.login(loginName((await request.formData()).get("name")));
  return new Response(null, { status: 303, headers: { location: "/" } });
});
