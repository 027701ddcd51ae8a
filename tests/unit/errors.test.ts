import { describe, expect, it } from 'vitest';
import { isUnavailable } from '../../api/errors';

/** Shapes of real errors seen while PostgreSQL or Temporal was down (fault suite). */
describe('isUnavailable: a dependency being down is told apart from a bug', () => {
  it('recognises Prisma wrapping a PostgreSQL shutdown (P2039, 57P03 in meta.driverAdapterError)', () => {
    const driver = Object.assign(new Error('the database system is shutting down'), { name: 'DriverAdapterError', cause: { kind: 'postgres', originalCode: '57P03' } });
    const prisma = Object.assign(new Error('Database error. Code: `57P03`.'), { code: 'P2039', meta: { driverAdapterError: driver } });
    expect(isUnavailable(prisma)).toBe(true);
  });

  it('recognises an unreachable server, a closed connection and a Temporal UNAVAILABLE', () => {
    expect(isUnavailable(Object.assign(new Error('x'), { cause: { code: 'ECONNREFUSED' } }))).toBe(true);
    expect(isUnavailable(Object.assign(new Error('x'), { name: 'DriverAdapterError', cause: { kind: 'ConnectionClosed' } }))).toBe(true);
    expect(isUnavailable(new Error('14 UNAVAILABLE: Connection dropped'))).toBe(true);
  });

  it('does not excuse a real bug or a constraint violation as an outage', () => {
    expect(isUnavailable(new TypeError('cannot read properties of undefined'))).toBe(false);
    const unique = Object.assign(new Error('Unique constraint failed'), { name: 'DriverAdapterError', cause: { kind: 'UniqueConstraintViolation', originalCode: '23505' } });
    expect(isUnavailable(Object.assign(new Error('x'), { code: 'P2002', meta: { driverAdapterError: unique } }))).toBe(false);
  });
});
