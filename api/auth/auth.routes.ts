import { createRoute, z } from '@hono/zod-openapi';
import { error, errors, json, response } from '../openapi';

const Credentials = z
  .object({
    email: z.string().trim().toLowerCase().max(254).email().openapi({ example: 'ada@example.com' }),
    password: z.string().min(8).max(1024).openapi({ example: 'correct horse battery' }),
  })
  .openapi('Credentials');

export const UserSchema = z
  .object({ id: z.string().uuid(), email: z.string(), role: z.enum(['CUSTOMER', 'ADMIN']) })
  .openapi('User');

const TokenSchema = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().openapi({ description: 'seconds until the token expires' }),
  })
  .openapi('AccessToken');

export const register = createRoute({
  method: 'post',
  path: '/api/v1/users/register',
  tags: ['accounts'],
  summary: 'Create a customer account',
  request: { body: { required: true, content: json(Credentials) } },
  responses: { 201: response('account created', UserSchema), ...errors(409) },
});

export const login = createRoute({
  method: 'post',
  path: '/api/v1/users/login',
  tags: ['accounts'],
  summary: 'Exchange email and password for a short-lived access token',
  request: { body: { required: true, content: json(Credentials) } },
  responses: {
    200: response('access token', TokenSchema),
    ...errors(),
    401: error(401, 'UNAUTHENTICATED: wrong email or password'),
  },
});

export const session = createRoute({
  method: 'post',
  path: '/api/v1/users/session',
  tags: ['accounts'],
  summary: "Log a browser in: the access token goes into an HttpOnly, SameSite=Strict cookie (the storefront's session), not into the answer",
  description:
    'The cookie is sent with every later /api/ request of that browser; requests that change something must then come from a page of this site ' +
    '(Origin), or they are refused with 403 CROSS_ORIGIN_REFUSED. POST /api/v1/users/me/logout ends it. Same throttles as POST /api/v1/users/login.',
  request: { body: { required: true, content: json(Credentials) } },
  responses: {
    200: response('logged in; the account (Set-Cookie carries the session)', UserSchema),
    ...errors(),
    401: error(401, 'UNAUTHENTICATED: wrong email or password'),
  },
});

export const me = createRoute({
  method: 'get',
  path: '/api/v1/users/me',
  tags: ['accounts'],
  summary: 'The account of the token bearer',
  responses: { 200: response('the account', UserSchema), ...errors() },
});

export const logout = createRoute({
  method: 'post',
  path: '/api/v1/users/me/logout',
  tags: ['accounts'],
  summary: 'Log out: every access token issued to this account so far is refused from now on, and the session cookie is cleared',
  responses: { 204: { description: 'logged out; log in again for a new token' }, ...errors() },
});

const PasswordChange = z
  .object({
    currentPassword: z.string().min(1).max(1024),
    newPassword: Credentials.shape.password,
  })
  .openapi('PasswordChange');

export const changePassword = createRoute({
  method: 'post',
  path: '/api/v1/users/me/password',
  tags: ['accounts'],
  summary: 'Change the password; every token issued before is refused, the answer carries a new one',
  request: { body: { required: true, content: json(PasswordChange) } },
  responses: {
    200: response('password changed; a new access token', TokenSchema),
    ...errors(),
    422: error(422, 'WRONG_PASSWORD: the current password is wrong'),
  },
});
