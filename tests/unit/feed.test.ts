import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { feedEnvelope } from '../../domain/feed';
import { retryDelayMs, signedHeaders, signingSecrets } from '../../feed/dispatcher';

const secretA = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const secretB = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;

describe('the event feed', () => {
  it('backs off exponentially with jitter between half and all of the step, capped', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, 60_000, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, 60_000, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(30, 1000, 60_000, () => 1)).toBe(60_000);
    expect(retryDelayMs(10_000, 1000, 60_000, () => 0)).toBe(30_000);
  });

  it('puts one event in the stable envelope: id, type, order, sequence, time, version, its data', () => {
    const at = new Date('2026-12-07T10:00:00.000Z');
    expect(feedEnvelope({ id: 42n, type: 'order.status.confirmed', orderId: 'o-1', seq: 3, status: 'CONFIRMED', detail: { notify: 'ORDER_CONFIRMED' }, occurredAt: at })).toEqual({
      id: '42',
      type: 'order.status.confirmed',
      orderId: 'o-1',
      sequence: 3,
      occurredAt: '2026-12-07T10:00:00.000Z',
      version: 1,
      data: { status: 'CONFIRMED', notify: 'ORDER_CONFIRMED' },
    });
  });

  it('signs with the current secret and, during its grace period only, the previous one; a Standard Webhooks receiver verifies either', () => {
    const now = new Date();
    const during = signingSecrets({ secret: secretB, previous_secret: secretA, previous_secret_until: new Date(now.getTime() + 1000) }, now);
    const after = signingSecrets({ secret: secretB, previous_secret: secretA, previous_secret_until: new Date(now.getTime() - 1) }, now);
    expect(during).toEqual([secretB, secretA]);
    expect(after).toEqual([secretB]);
    const body = '{"id":"1"}';
    const headers = signedHeaders(during, '1', body, now);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(secretA).verify(body, headers)).toEqual({ id: '1' });
    expect(new Webhook(secretB).verify(body, headers)).toEqual({ id: '1' });
    expect(() => new Webhook(secretB).verify('{"id":"2"}', headers)).toThrow();
  });
});
