import { withSession } from "pgsession/next";
import { crossSite, sessions } from "../../lib/sessions";

export const POST = withSession(sessions, async (request, session) => {
  const refused = crossSite(request);
  if (refused) return refused;
  await session.logout();
  return new Response(null, { status: 303, headers: { location: "/" } });
});
