import type { z } from '@hono/zod-openapi';
import { ErrorCodes } from '../domain/errors';
import { ApiError } from './errors';

export const encodeCursor = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A cursor we did not issue is a client mistake naming the `cursor` field, never a 500. */
export function decodeCursor<T extends z.ZodTypeAny>(cursor: string | undefined, schema: T): z.infer<T> | undefined {
  if (cursor === undefined) return undefined;
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new ApiError(ErrorCodes.VALIDATION_FAILED, 'invalid request: cursor', { fields: [{ path: 'cursor', message: 'not a cursor this API issued' }] });
  }
}

/** Fetch limit + 1 rows; the extra one tells whether there is a next page. */
export function toPage<T, C>(rows: T[], limit: number, cursorOf: (last: T) => C): { rows: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { rows: kept, nextCursor: more ? encodeCursor(cursorOf(kept[kept.length - 1])) : null };
}
