import type { Db } from '../../prisma/client';
import type { AuthUser } from '../types';
import { InvalidTokenError, type Tokens } from './tokens';

/**
 * The account an access token speaks for, as every endpoint counts it: the
 * token is correctly signed and unexpired, its account still exists, it was
 * issued after the account's last log-out or password change
 * (users.tokenVersion), and the role is the account's current one. One
 * primary-key lookup. Throws InvalidTokenError, whose message says why.
 */
export async function accountForToken(tokens: Tokens, db: Db, token: string): Promise<AuthUser> {
  const claims = await tokens.verify(token);
  const account = await db.user.findUnique({ where: { id: claims.id }, select: { role: true, tokenVersion: true } });
  if (!account) throw new InvalidTokenError('this account no longer exists');
  if (account.tokenVersion !== claims.tokenVersion) throw new InvalidTokenError('access token was revoked (log-out or password change); log in again');
  return { id: claims.id, role: account.role };
}
