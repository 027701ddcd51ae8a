import type { RouteDef } from '../../router';

/** The storefront's pages (customers). */
export const storeRoutes: RouteDef[] = [];
