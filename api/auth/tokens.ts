import { z } from 'zod';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { AuthUser, Role } from '../types';

const ISSUER = 'order-fulfilment';
const AUDIENCE = 'order-fulfilment-api';

export interface TokenSettings {
  secret: string;
  ttlSeconds: number;
}

export interface AccessToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export class InvalidTokenError extends Error {}

/** users are keyed by UUID: any other subject names nobody, and must not reach a uuid column */
const Subject = z.string().uuid();
/** users.tokenVersion when the token was issued; tokens from before the claim existed count as 0 */
const Version = z.number().int().nonnegative().default(0);

/** What a correctly signed, unexpired token says; accountForToken() checks `tokenVersion` against the account. */
export interface VerifiedToken extends AuthUser {
  tokenVersion: number;
}

/**
 * Short-lived HS256 access tokens. sub = user id (the customerId of their
 * orders and cart); ver = the account's tokenVersion, which log-out and a
 * password change bump, so every token issued before is refused.
 */
export function createTokens({ secret, ttlSeconds }: TokenSettings) {
  const key = new TextEncoder().encode(secret);
  return {
    async issue(user: AuthUser, tokenVersion = 0): Promise<AccessToken> {
      const accessToken = await new SignJWT({ role: user.role, ver: tokenVersion })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(user.id)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key);
      return { accessToken, tokenType: 'Bearer', expiresIn: ttlSeconds };
    },

    async verify(token: string): Promise<VerifiedToken> {
      try {
        // Only HS256 is accepted: "none" and every other algorithm are refused.
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          requiredClaims: ['sub', 'exp', 'iat'],
        });
        const role = payload.role as Role;
        if (role !== 'CUSTOMER' && role !== 'ADMIN') throw new InvalidTokenError('token has no valid role');
        if (!Subject.safeParse(payload.sub).success) throw new InvalidTokenError('access token is invalid');
        const version = Version.safeParse(payload.ver);
        if (!version.success) throw new InvalidTokenError('access token is invalid');
        return { id: payload.sub!, role, tokenVersion: version.data };
      } catch (err) {
        if (err instanceof errors.JWTExpired) throw new InvalidTokenError('access token expired; log in again');
        if (err instanceof InvalidTokenError) throw err;
        throw new InvalidTokenError('access token is invalid');
      }
    },
  };
}
export type Tokens = ReturnType<typeof createTokens>;
