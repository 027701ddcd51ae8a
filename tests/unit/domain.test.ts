import { describe, expect, it } from 'vitest';
import { addMoney, money, multiplyMoney, sumMoney } from '../../domain/money';
import { canTransition, isCancellable, isTerminal, OrderStatuses } from '../../domain/order-status';
import { orderTotal } from '../../domain/order';
import { declineForToken, isKnownToken, TestTokens } from '../../domain/payment';
import { httpStatus } from '../../api/errors';
import { ErrorCodes, ErrorStatuses, type ErrorCode } from '../../domain/errors';
import { stackConfig } from '../../platform/config';
import { chargeKey, refundKey } from '../../temporal-config/place-order';

describe('money', () => {
  it('is integer minor units with a currency', () => {
    expect(money(1999, 'USD')).toEqual({ amount: 1999, currency: 'USD' });
    expect(() => money(19.99, 'USD')).toThrow(/integer/);
    expect(() => money(100, 'usd')).toThrow(/ISO-4217/);
  });
  it('adds and multiplies without floats, and refuses mixed currencies', () => {
    expect(addMoney(money(10, 'EUR'), money(5, 'EUR'))).toEqual(money(15, 'EUR'));
    expect(multiplyMoney(money(1999, 'USD'), 3)).toEqual(money(5997, 'USD'));
    expect(sumMoney([money(1, 'USD'), money(2, 'USD')], 'USD')).toEqual(money(3, 'USD'));
    expect(() => addMoney(money(1, 'USD'), money(1, 'EUR'))).toThrow(/USD to EUR/);
    expect(() => multiplyMoney(money(1, 'USD'), 1.5)).toThrow(/integer/);
  });
  it('an order total is the sum of its lines, and refuses a fractional price or a total past a safe integer', () => {
    const line = (quantity: number, unitPriceAmount: number) => ({ productId: 'p', sku: 'p', name: 'p', quantity, unitPriceAmount });
    expect(orderTotal([line(2, 1250), line(1, 1999)], 'USD')).toEqual(money(4499, 'USD'));
    expect(() => orderTotal([line(1, 19.99)], 'USD')).toThrow(/integer/);
    expect(() => orderTotal([line(2, Number.MAX_SAFE_INTEGER)], 'USD')).toThrow(/integer/);
    expect(() => orderTotal([line(1, Number.MAX_SAFE_INTEGER), line(1, 1)], 'USD')).toThrow(/integer/);
  });
});

describe('order lifecycle', () => {
  it('allows the happy path and the documented side exits only', () => {
    const path = ['PENDING', 'CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'RETURNED'] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1], path[i])).toBe(true);
    expect(canTransition('SHIPPED', 'CANCELLED')).toBe(false);
    expect(canTransition('CANCELLED', 'CONFIRMED')).toBe(false);
    expect(canTransition('FAILED', 'CONFIRMED')).toBe(false);
    expect(canTransition('NEEDS_ATTENTION', 'CANCELLED')).toBe(true);
    expect(canTransition('DELIVERED', 'PENDING')).toBe(false);
  });
  it('terminal states lead nowhere and every state may stay where it is', () => {
    for (const s of OrderStatuses) expect(canTransition(s, s)).toBe(true);
    // DELIVERED is not terminal: a return may still follow
    expect(OrderStatuses.filter(isTerminal)).toEqual(['RETURNED', 'CANCELLED', 'FAILED']);
    for (const from of OrderStatuses.filter(isTerminal)) for (const to of OrderStatuses) if (to !== from) expect(canTransition(from, to)).toBe(false);
  });
  it('a return is refunded from RETURN_REQUESTED once received, or lapses back to DELIVERED; it cannot be cancelled', () => {
    expect(canTransition('DELIVERED', 'RETURN_REQUESTED')).toBe(true);
    expect(canTransition('RETURN_REQUESTED', 'RETURNED')).toBe(true);
    expect(canTransition('RETURN_REQUESTED', 'DELIVERED')).toBe(true);
    expect(canTransition('RETURN_REQUESTED', 'CANCELLED')).toBe(false);
    expect(isCancellable('RETURN_REQUESTED')).toBe(false);
  });
  it('can be cancelled only before the carrier has every parcel (then what is left in the warehouse)', () => {
    expect(OrderStatuses.filter(isCancellable)).toEqual(['PENDING', 'CONFIRMED', 'PROCESSING', 'PARTIALLY_SHIPPED']);
  });
});

describe('payments', () => {
  it('test tokens map to decline reasons', () => {
    expect(declineForToken[TestTokens.insufficientFunds]).toBe('insufficient_funds');
    expect(declineForToken[TestTokens.success]).toBeUndefined();
    expect(isKnownToken('tok_visa')).toBe(true);
    expect(isKnownToken('4242424242424242')).toBe(false);
  });
  it('idempotency keys derive from the workflow id', () => {
    expect(chargeKey('order-1')).toBe('order-1:charge');
    expect(refundKey('order-1')).toBe('order-1:refund');
  });
});

describe('error codes', () => {
  it('every code has a deliberate HTTP status; client mistakes are never 5xx', () => {
    const clientCodes = ['VALIDATION_FAILED', 'INVALID_JSON', 'NOT_FOUND', 'METHOD_NOT_ALLOWED', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE', 'PRODUCT_NOT_FOUND', 'PRODUCT_INACTIVE', 'ORDER_NOT_FOUND'];
    for (const code of clientCodes) expect(httpStatus(code)).toBeLessThan(500);
    expect(httpStatus(ErrorCodes.PAYMENT_DECLINED)).toBe(402);
    expect(httpStatus(ErrorCodes.INVENTORY_UNAVAILABLE)).toBe(409);
    expect(httpStatus(ErrorCodes.DEPENDENCY_UNAVAILABLE)).toBe(503);
    expect(httpStatus(ErrorCodes.METHOD_NOT_ALLOWED)).toBe(405);
    // our own invariant broken, not the client's mistake
    expect(httpStatus(ErrorCodes.ILLEGAL_TRANSITION)).toBe(500);
    expect(httpStatus('SOMETHING_UNREGISTERED')).toBe(500);
  });
  it('each code is its own name, and the table gives the status', () => {
    for (const [code, status] of Object.entries(ErrorStatuses)) {
      expect(ErrorCodes[code as ErrorCode]).toBe(code);
      expect(httpStatus(code)).toBe(status);
    }
    expect(Object.keys(ErrorCodes)).toEqual(Object.keys(ErrorStatuses));
  });
});

describe('config', () => {
  it('has a default for everything and names a bad variable', () => {
    const c = stackConfig.parse({});
    expect(c.PORT).toBe(3000);
    expect(c.TEMPORAL_UI_PORT).toBe(8233);
    const bad = stackConfig.safeParse({ PORT: 'abc', PAYMENT_DECLINE_RATE: '2' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path[0]).sort()).toEqual(['PAYMENT_DECLINE_RATE', 'PORT']);
  });
});
