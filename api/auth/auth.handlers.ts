import type { RouteHandler } from '@hono/zod-openapi';
import { ErrorCodes } from '../../domain/errors';
import { Prisma, type Db } from '../../prisma/client';
import { ApiError } from '../errors';
import type { AppEnv } from '../types';
import { burnPasswordCheck, hashPassword, verifyPassword } from './passwords';
import type * as routes from './auth.routes';
import type { Tokens } from './tokens';

const isUniqueViolation = (err: unknown) => err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';

export function createAuthHandlers(db: Db, tokens: Tokens) {
  const register: RouteHandler<typeof routes.register, AppEnv> = async (c) => {
    const { email, password } = c.req.valid('json');
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

  const login: RouteHandler<typeof routes.login, AppEnv> = async (c) => {
    const { email, password } = c.req.valid('json');
    const user = await db.user.findUnique({ where: { email } });
    const ok = user ? await verifyPassword(user.passwordHash, password) : await burnPasswordCheck(password);
    if (!user || !ok) throw new ApiError(ErrorCodes.UNAUTHENTICATED, 'wrong email or password');
    return c.json(await tokens.issue({ id: user.id, role: user.role }), 200);
  };

  const me: RouteHandler<typeof routes.me, AppEnv> = async (c) => {
    const user = await db.user.findUnique({ where: { id: c.get('user')!.id }, select: { id: true, email: true, role: true } });
    if (!user) throw new ApiError(ErrorCodes.UNAUTHENTICATED, 'this account no longer exists');
    return c.json(user, 200);
  };

  return { register, login, me };
}
