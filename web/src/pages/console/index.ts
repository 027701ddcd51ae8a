import type { RouteDef } from '../../router';

/** The operator console's pages (admin role), all under /console. */
export const consoleRoutes: RouteDef[] = [];
