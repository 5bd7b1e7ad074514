import type { PageServerLoad } from "./$types";

// Reached only when signed in (see src/hooks.server.ts).
export const load: PageServerLoad = ({ locals }) => ({ user: locals.session.userId as string, since: locals.session.authenticatedAt });
