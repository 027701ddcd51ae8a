import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ErrorCodes } from '../../domain/errors';
import { Prisma, type Db } from '../../prisma/client';
import { ApiError } from '../errors';
import type { AppEnv } from '../types';
import { burnPasswordCheck, hashPassword, verifyPassword } from './passwords';
import type * as routes from './auth.routes';
import { clearSessionCookie, setSessionCookie } from './session-cookie';
import type { Tokens } from './tokens';
import type { AuthLimits } from '../middleware/auth-limits';

const isUniqueViolation = (err: unknown) => err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';

export function createAuthHandlers(db: Db, tokens: Tokens, limits?: AuthLimits) {
  const register: RouteHandler<typeof routes.register, AppEnv> = async (c) => {
    const { email, password } = c.req.valid('json');
    await limits?.register(c);
    const passwordHash = await hashPassword(password);
    try {
      // the unique index decides between two registrations racing for one email
      const user = await db.user.create({ data: { email, passwordHash }, select: { id: true, email: true, role: true } });
      return c.json(user, 201);
    } catch (err) {
      if (isUniqueViolation(err)) throw new ApiError(ErrorCodes.EMAIL_TAKEN, 'an account with this email already exists');
      throw err;
    }
  };

  /** The account these credentials prove, counted against the login throttles; wrong ones are 401. */
  const authenticate = async (c: Context<AppEnv>, email: string, password: string) => {
    // before any hashing: a throttled guess costs no argon2
    await limits?.login(c, email);
    const user = await db.user.findUnique({ where: { email } });
    const ok = user ? await verifyPassword(user.passwordHash, password) : await burnPasswordCheck(password);
    if (!user || !ok) throw new ApiError(ErrorCodes.UNAUTHENTICATED, 'wrong email or password');
    await limits?.loginSucceeded(c, email);
    return user;
  };

  const login: RouteHandler<typeof routes.login, AppEnv> = async (c) => {
    const { email, password } = c.req.valid('json');
    const user = await authenticate(c, email, password);
    return c.json(await tokens.issue({ id: user.id, role: user.role }, user.tokenVersion), 200);
  };

  const session: RouteHandler<typeof routes.session, AppEnv> = async (c) => {
    const { email, password } = c.req.valid('json');
    const user = await authenticate(c, email, password);
    setSessionCookie(c, await tokens.issue({ id: user.id, role: user.role }, user.tokenVersion));
    return c.json({ id: user.id, email: user.email, role: user.role }, 200);
  };

  const logout: RouteHandler<typeof routes.logout, AppEnv> = async (c) => {
    await db.user.update({ where: { id: c.get('user')!.id }, data: { tokenVersion: { increment: 1 } } });
    clearSessionCookie(c);
    return c.body(null, 204);
  };

  const changePassword: RouteHandler<typeof routes.changePassword, AppEnv> = async (c) => {
    const { currentPassword, newPassword } = c.req.valid('json');
    const user = await db.user.findUnique({ where: { id: c.get('user')!.id } });
    if (!user) throw new ApiError(ErrorCodes.UNAUTHENTICATED, 'this account no longer exists');
    // guesses of the current password (a stolen token) count against the account's login budget
    await limits?.login(c, user.email);
    if (!(await verifyPassword(user.passwordHash, currentPassword))) throw new ApiError(ErrorCodes.WRONG_PASSWORD, 'the current password is wrong');
    const updated = await db.user.update({
      where: { id: user.id },
      data: { passwordHash: await hashPassword(newPassword), tokenVersion: { increment: 1 } },
      select: { role: true, tokenVersion: true },
    });
    await limits?.loginSucceeded(c, user.email);
    const issued = await tokens.issue({ id: user.id, role: updated.role }, updated.tokenVersion);
    // a browser's session was revoked with the rest: it goes on under the new token
    if (c.get('viaCookie')) setSessionCookie(c, issued);
    return c.json(issued, 200);
  };

  const me: RouteHandler<typeof routes.me, AppEnv> = async (c) => {
    const user = await db.user.findUnique({ where: { id: c.get('user')!.id }, select: { id: true, email: true, role: true } });
    if (!user) throw new ApiError(ErrorCodes.UNAUTHENTICATED, 'this account no longer exists');
    return c.json(user, 200);
  };

  return { register, login, session, me, logout, changePassword };
}
