import type { Logger } from '../platform/logger';

export type Role = 'CUSTOMER' | 'ADMIN';

/** Who is calling, as proven by a verified access token. */
export interface AuthUser {
  id: string;
  role: Role;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    /** set when a valid bearer token came with the request */
    user?: AuthUser;
    /** the account came from the browser's session cookie, not an Authorization header */
    viaCookie?: true;
    /** why a bearer token that came with the request was refused */
    authError?: string;
  };
}
