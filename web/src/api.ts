import createClient from 'openapi-fetch';
import type { components, paths } from './generated/api';

/** The API's schemas, by the names its OpenAPI document gives them. */
export type Schemas = components['schemas'];

/**
 * Every call the pages make goes through this client, typed from the API's
 * OpenAPI document (scripts/build-web.ts generates the types). The session is
 * an HttpOnly cookie the browser sends by itself; no token is ever readable here.
 */
export const api = createClient<paths>({ baseUrl: window.location.origin });

/** A refusal as the API words it: its stable code, its message and details. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

/** Fired when the API answers 401: the session is gone (expired, logged out elsewhere). */
export const SESSION_LOST = 'session-lost';

type Answer = { data?: unknown; error?: unknown; response: Response };

/** The body of an answer that succeeded; a refusal or an unreachable API throws an ApiProblem. */
export async function ok<A extends Answer>(call: Promise<A>): Promise<Exclude<A['data'], undefined>> {
  let answer: A;
  try {
    answer = await call;
  } catch {
    throw new ApiProblem(0, 'UNREACHABLE', 'The shop cannot be reached. Check the connection and try again.');
  }
  if (answer.response.ok) return answer.data as Exclude<A['data'], undefined>;
  const body = (answer.error ?? {}) as { code?: string; message?: string; details?: Record<string, unknown>; requestId?: string };
  if (answer.response.status === 401) window.dispatchEvent(new Event(SESSION_LOST));
  throw new ApiProblem(answer.response.status, body.code ?? 'UNKNOWN', body.message ?? `the API answered ${answer.response.status}`, body.details, body.requestId);
}
