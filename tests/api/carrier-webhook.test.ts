/**
 * The carrier webhook, in-process against a real PostgreSQL and a real
 * Temporal (the CLI's dev server) with the real activities: deliveries are
 * signed (HMAC over timestamp and raw body), stale or replayed ones refused,
 * events that do not fit the shipment's state refused, orders whose saga has
 * ended answered from the stored state, and the deliveries per order capped.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CARRIER_SIGNATURE_HEADER,
  CARRIER_SIGNATURE_TOLERANCE_SECONDS,
  CARRIER_TIMESTAMP_HEADER,
  carrierSignatureHeaders,
  signCarrierDelivery,
} from '../../api/carrier-signature';
import { MAX_CARRIER_EVENTS_PER_ORDER } from '../../api/carrier-webhook';
import { TestTokens } from '../../domain/payment';
import { TEST_CARRIER_WEBHOOK_SECRET } from '../support/test-secrets';
import { until } from '../support/until';
import { apiClient, expectError, newCustomer, testApp, unreachableTemporal, type ApiClient } from './support/harness';
import { address, startSagaBackend } from './support/saga-backend';
import { perSuite } from './support/suite';
import { orderWorkflowId } from '../../temporal-config/place-order';

/** the key the test apps verify with (their default) */
const SECRET = TEST_CARRIER_WEBHOOK_SECRET;
const HOUR = 3_600_000;

const backend = perSuite(() => startSagaBackend('carrier_webhook', { slowMs: 5_000 }));
/** orders it places wait an hour in the warehouse */
let slow: ApiClient;
/** orders it places go to the carrier at once; the return window is short */
let fast: ApiClient;
/** orders it places go to the carrier at once; the return window stays open */
let open: ApiClient;
let customer: { token: string };

beforeAll(async () => {
  const app = (fulfilment: { handlingMs: number; returnWindowMs: number }) => apiClient(backend.app({ outcomeWaitMs: 20_000, fulfilment }));
  slow = app({ handlingMs: HOUR, returnWindowMs: HOUR });
  fast = app({ handlingMs: 0, returnWindowMs: 1_500 });
  open = app({ handlingMs: 0, returnWindowMs: HOUR });
  customer = await newCustomer(slow, 'carrier');
});


/** Places an order through `client`; waits until it reaches `status`; returns its id and parcel. */
async function placed(client: ApiClient, status: 'PROCESSING' | 'SHIPPED') {
  const res = await client.call('POST', '/api/v1/orders', {
    token: customer.token,
    body: { items: [{ productId: 'prod_mug', quantity: 1 }], shippingAddress: address, paymentMethod: { token: TestTokens.success } },
  });
  expect(res.status).toBe(201);
  const orderId: string = res.body.orderId;
  await until(status, async () => (await statusOf(orderId)) === status);
  const { trackingNumber } = await backend.db.shipment.findFirstOrThrow({ where: { orderId } });
  return { orderId, trackingNumber };
}

const statusOf = async (orderId: string) => (await backend.db.order.findUniqueOrThrow({ where: { id: orderId } })).status;
const shipmentOf = async (trackingNumber: string) => (await backend.db.shipment.findUniqueOrThrow({ where: { trackingNumber } })).status;
const recorded = (orderId: string) => backend.db.carrierDelivery.count({ where: { orderId } });
const handle = (orderId: string) => backend.env.client.workflow.getHandle(orderWorkflowId(orderId));
/** markDelivered signals the order's workflow has received */
const signals = async (orderId: string) =>
  (await handle(orderId).fetchHistory()).events!.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'markDelivered').length;

interface Delivery {
  body: string;
  headers: Record<string, string>;
}
/** A "delivered" event for this parcel, signed as a carrier signs it (at `at`, unix seconds). */
function delivery(trackingNumber: string, opts: { at?: number; secret?: string } = {}): Delivery {
  const body = JSON.stringify({ trackingNumber, event: 'delivered' });
  return { body, headers: { 'content-type': 'application/json', ...carrierSignatureHeaders(opts.secret ?? SECRET, body, opts.at) } };
}
const send = (d: Delivery, client: ApiClient = slow) => client.call('POST', '/api/v1/webhooks/carrier', { raw: d.body, headers: d.headers });
const now = () => Math.floor(Date.now() / 1000);

describe('POST /webhooks/carrier: signed deliveries', () => {
  it('a missing, wrong or foreign signature → 401 and nothing changes: no delivery recorded, no signal, the order stays SHIPPED', async () => {
    const { orderId, trackingNumber } = await placed(open, 'SHIPPED');
    const good = delivery(trackingNumber);
    const refused = [
      { body: good.body, headers: { 'content-type': 'application/json' } },
      { body: good.body, headers: { ...good.headers, [CARRIER_SIGNATURE_HEADER]: '' } },
      { body: good.body, headers: { 'content-type': 'application/json', [CARRIER_SIGNATURE_HEADER]: good.headers[CARRIER_SIGNATURE_HEADER] } },
      delivery(trackingNumber, { secret: 'not-the-carrier-secret' }),
      // a signature over another body, another timestamp, or the secret itself as the "signature"
      { body: good.body, headers: { ...good.headers, [CARRIER_SIGNATURE_HEADER]: delivery('ZZ000000000000').headers[CARRIER_SIGNATURE_HEADER] } },
      { body: good.body, headers: { ...good.headers, [CARRIER_TIMESTAMP_HEADER]: String(Number(good.headers[CARRIER_TIMESTAMP_HEADER]) + 1) } },
      { body: good.body, headers: { ...good.headers, [CARRIER_SIGNATURE_HEADER]: SECRET } },
      { body: `${good.body} `, headers: good.headers },
    ];
    for (const d of refused) expectError(await send(d), 401, 'UNAUTHENTICATED');
    expect(await recorded(orderId)).toBe(0);
    expect(await signals(orderId)).toBe(0);
    expect(await statusOf(orderId)).toBe('SHIPPED');
    expect(await shipmentOf(trackingNumber)).toBe('HANDED_TO_CARRIER');
  });

  it(`a correctly signed delivery whose timestamp is more than ${CARRIER_SIGNATURE_TOLERANCE_SECONDS} s off → 401, nothing changes; within it → 202`, async () => {
    const { orderId, trackingNumber } = await placed(open, 'SHIPPED');
    const stale = expectError(await send(delivery(trackingNumber, { at: now() - CARRIER_SIGNATURE_TOLERANCE_SECONDS - 5 })), 401, 'UNAUTHENTICATED');
    expect(stale.message).toMatch(/timestamp/);
    expectError(await send(delivery(trackingNumber, { at: now() + CARRIER_SIGNATURE_TOLERANCE_SECONDS + 5 })), 401, 'UNAUTHENTICATED');
    expectError(await send(delivery(trackingNumber, { at: 0 })), 401, 'UNAUTHENTICATED');
    expect(await recorded(orderId)).toBe(0);
    expect(await signals(orderId)).toBe(0);
    expect(await statusOf(orderId)).toBe('SHIPPED');

    const ok = await send(delivery(trackingNumber, { at: now() - CARRIER_SIGNATURE_TOLERANCE_SECONDS + 30 }));
    expect({ status: ok.status, body: ok.body }).toEqual({ status: 202, body: { orderId, trackingNumber } });
    await until('DELIVERED', async () => (await statusOf(orderId)) === 'DELIVERED');
  });

  it('a replayed delivery (the same signature again, in any case) → 409 CARRIER_DELIVERY_REPLAYED, no second signal', async () => {
    const { orderId, trackingNumber } = await placed(open, 'SHIPPED');
    const first = delivery(trackingNumber);
    expect((await send(first)).status).toBe(202);
    expectError(await send(first), 409, 'CARRIER_DELIVERY_REPLAYED');
    const shouting = { ...first, headers: { ...first.headers, [CARRIER_SIGNATURE_HEADER]: `v1=${first.headers[CARRIER_SIGNATURE_HEADER].slice(3).toUpperCase()}` } };
    expectError(await send(shouting), 409, 'CARRIER_DELIVERY_REPLAYED');
    expect(await recorded(orderId)).toBe(1);
    await until('DELIVERED', async () => (await statusOf(orderId)) === 'DELIVERED');
    expect(await signals(orderId)).toBe(1);
  });

  it('signCarrierDelivery is HMAC-SHA256 over "<timestamp>.<body>", hex, v1= (what the README shows with openssl)', () => {
    // printf '%s' '1767225600.{"trackingNumber":"SS0123ABCD","event":"delivered"}' | openssl dgst -sha256 -hmac 'k'
    expect(signCarrierDelivery('k', 1767225600, '{"trackingNumber":"SS0123ABCD","event":"delivered"}')).toBe(
      'v1=446ddbfc86ca50fd51b0d1e9027d85a4bd05a2bef9ee2bcf7e77d87369db684f',
    );
  });
});

describe('POST /webhooks/carrier: events that do not fit the shipment', () => {
  it('"delivered" for a parcel still in the warehouse → 409 SHIPMENT_NOT_IN_TRANSIT; nothing is queued: no signal, the order stays PROCESSING, the parcel CREATED', async () => {
    const { orderId, trackingNumber } = await placed(slow, 'PROCESSING');
    expect(await shipmentOf(trackingNumber)).toBe('CREATED');
    const res = expectError(await send(delivery(trackingNumber)), 409, 'SHIPMENT_NOT_IN_TRANSIT');
    expect(res.details).toEqual({ shipmentStatus: 'CREATED', orderStatus: 'PROCESSING' });
    expect(await signals(orderId)).toBe(0);
    expect(await statusOf(orderId)).toBe('PROCESSING');
    expect(await shipmentOf(trackingNumber)).toBe('CREATED');
  });

  it('"delivered" for a parcel of a cancelled order (it never left the warehouse) → 409 SHIPMENT_NOT_IN_TRANSIT, nothing signalled', async () => {
    const { orderId, trackingNumber } = await placed(slow, 'PROCESSING');
    expect((await slow.call('POST', `/api/v1/orders/${orderId}/cancel`, { token: customer.token, body: { reason: 'changed my mind' } })).status).toBe(200);
    await until('the shipment CANCELLED', async () => (await shipmentOf(trackingNumber)) === 'CANCELLED');
    const res = expectError(await send(delivery(trackingNumber)), 409, 'SHIPMENT_NOT_IN_TRANSIT');
    expect(res.details).toMatchObject({ shipmentStatus: 'CANCELLED' });
    expect(await signals(orderId)).toBe(0);
  });

  it('after the saga has ended (return window closed): a repeat "delivered" → 200 with the first answer, not a 500; the order stays DELIVERED', async () => {
    const { orderId, trackingNumber } = await placed(fast, 'SHIPPED');
    const first = await send(delivery(trackingNumber));
    expect({ status: first.status, body: first.body }).toEqual({ status: 202, body: { orderId, trackingNumber } });
    await handle(orderId).result(); // delivered, then the 1.5 s return window closes and the workflow completes
    expect(await statusOf(orderId)).toBe('DELIVERED');
    const again = await send(delivery(trackingNumber));
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: first.body });
    expect(await statusOf(orderId)).toBe('DELIVERED');
  });

  it('a parcel with the carrier whose workflow has ended (terminated by an operator) → 409 FULFILMENT_ENDED, not a 500', async () => {
    const { orderId, trackingNumber } = await placed(open, 'SHIPPED');
    await handle(orderId).terminate('operator stops tracking');
    const res = expectError(await send(delivery(trackingNumber)), 409, 'FULFILMENT_ENDED');
    expect(res.details).toEqual({ shipmentStatus: 'HANDED_TO_CARRIER', orderStatus: 'SHIPPED' });
    expect(await statusOf(orderId)).toBe('SHIPPED');
  });

  it('Temporal unreachable → 503, and the delivery is not counted (the carrier retries, signed afresh)', async () => {
    const { orderId, trackingNumber } = await placed(open, 'SHIPPED');
    const down = await unreachableTemporal();
    try {
      const cut = apiClient(testApp({ db: backend.db, temporal: down.temporal }));
      expectError(await send(delivery(trackingNumber), cut), 503, 'DEPENDENCY_UNAVAILABLE');
    } finally {
      await down.close();
    }
    expect(await recorded(orderId)).toBe(0);
    expect((await send(delivery(trackingNumber))).status).toBe(202);
  });
});

describe('POST /webhooks/carrier: deliveries per order are capped', () => {
  it(`a burst of ${MAX_CARRIER_EVENTS_PER_ORDER + 5} signed deliveries for one order: ${MAX_CARRIER_EVENTS_PER_ORDER} recorded, the rest → 409 CARRIER_EVENT_LIMIT_REACHED, and so is every later one`, async () => {
    const { orderId, trackingNumber } = await placed(open, 'SHIPPED');
    // each signed at another second: distinct signatures, none a replay
    const burst = Array.from({ length: MAX_CARRIER_EVENTS_PER_ORDER + 5 }, (_, i) => delivery(trackingNumber, { at: now() - i }));
    const replies = await Promise.all(burst.map((d) => send(d)));
    const ok = replies.filter((r) => r.status === 202 || r.status === 200);
    const capped = replies.filter((r) => r.status === 409 && r.body.code === 'CARRIER_EVENT_LIMIT_REACHED');
    expect({ ok: ok.length, capped: capped.length }).toEqual({ ok: MAX_CARRIER_EVENTS_PER_ORDER, capped: 5 });
    expect(capped[0].body.details).toEqual({ limit: MAX_CARRIER_EVENTS_PER_ORDER });
    expect(await recorded(orderId)).toBe(MAX_CARRIER_EVENTS_PER_ORDER);

    await until('DELIVERED', async () => (await statusOf(orderId)) === 'DELIVERED');
    expectError(await send(delivery(trackingNumber, { at: now() + 60 })), 409, 'CARRIER_EVENT_LIMIT_REACHED');
    expect(await recorded(orderId)).toBe(MAX_CARRIER_EVENTS_PER_ORDER);
    expect(await signals(orderId)).toBeLessThanOrEqual(MAX_CARRIER_EVENTS_PER_ORDER);
    // another order is not affected
    const other = await placed(open, 'SHIPPED');
    expect((await send(delivery(other.trackingNumber))).status).toBe(202);
  });
});
