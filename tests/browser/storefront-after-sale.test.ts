/**
 * The storefront in a real Chromium against the whole stack, after the sale:
 * what tests/browser/storefront.test.ts leaves untested, each through the page
 * as a customer uses it and checked against the state behind it (the order's
 * status and money through the API, stock and the provider's ledger in the
 * database):
 *
 * 1. More lanterns than the warehouse has: checkout refuses with the API's
 *    out-of-stock message; nothing is reserved or charged, the cart is kept.
 * 2. The slow test card: checkout answers 202 (the payment outlasts
 *    CHECKOUT_WAIT_MS), the order page says the bank is confirming, then
 *    CONFIRMED and PROCESSING arrive live, without a reload.
 * 3. Mugs from `main` and a kettle from `north`: once the mugs are handed to
 *    the carrier the page offers cancelling the kettle's shipment, still in the
 *    warehouse (a choice of the mugs alone, made before they left, no longer
 *    counts); the visitor cancels it, the page shows it CANCELLED and its
 *    amount released, while the mugs go on to be delivered.
 * 4. The slow-card order delivered (a signed carrier webhook): the visitor
 *    returns one of the two T-shirts; the page shows the return REQUESTED with
 *    its tracking number; once the warehouse receives and inspects it (the
 *    admin API) the refund appears on the page live.
 *
 * Timings: each shipment leaves the warehouse HANDLING_MS after the one
 * before it (the first HANDLING_MS after PROCESSING), so the kettle is
 * still cancellable for HANDLING_MS after the mugs left. The workers hold the
 * result of planShipments for a few seconds (the fault suite's
 * FAULT_HOLD_AFTER_ACTIVITIES hook) so that CONFIRMED is on the page long
 * enough to be seen before PROCESSING. Each order page state reached is
 * scanned with axe-core and photographed; the books balance at the end.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carrierSignatureHeaders } from '../../api/carrier-signature';
import type { Db } from '../../prisma/client';
import type { Stack } from '../../scripts/stack';
import { FAULT_WORKER } from '../faults/support/fault-stack';
import { assertBooksBalance, initialStock } from '../support/books';
import { launchBrowser, openContext, screenshot, seriousViolations } from '../support/browser';
import { registerAndLogin, startE2eStack, type E2eStack } from '../support/e2e-stack';

const WAIT = 30_000;
const HOLD_PLANNING_MS = 3_000;
/** between PROCESSING and the first hand-over, and between hand-overs: the window in which the kettle can be cancelled */
const HANDLING_MS = 12_000;
/** checkout waits this long for the payment's outcome; the slow card takes PAYMENT_SLOW_MS */
const CHECKOUT_WAIT_MS = 4_000;
const PAYMENT_SLOW_MS = 9_000;
const VISITOR = { email: `after-sale-${Date.now()}@example.com`, password: 'correct horse battery' };
const ADMIN = { email: 'returns-desk@example.com', password: 'returns desk password 1' };

let e2e: E2eStack;
let stack: Stack;
let db: Db;
let initial: Record<string, number>;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
let customer: { id: string; token: string };
let adminToken: string;

beforeAll(async () => {
  e2e = await startE2eStack(
    'store-after-sale-',
    {
      CHECKOUT_WAIT_MS: String(CHECKOUT_WAIT_MS),
      PAYMENT_SLOW_MS: String(PAYMENT_SLOW_MS),
      LOG_LEVEL: 'warn',
      FULFILMENT_HANDLING_MS: String(HANDLING_MS),
      FAULT_HOLD_AFTER_ACTIVITIES: 'planShipments',
      FAULT_HOLD_MS: String(HOLD_PLANNING_MS),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      // the page reads the order on every event and the test reads it too: no per-user limit in the way
      RATE_LIMIT_PER_MINUTE: '0',
    },
    { worker: FAULT_WORKER },
  );
  ({ stack, db } = e2e);
  initial = await initialStock(db);
  customer = await registerAndLogin(stack.apiUrl, VISITOR.email, VISITOR.password);
  const login = await fetch(`${stack.apiUrl}/api/v1/users/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  expect(login.status).toBe(200);
  adminToken = ((await login.json()) as { accessToken: string }).accessToken;
  browser = await launchBrowser();
  ({ context, page, problems } = await openContext(browser, stack.apiUrl));
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await e2e?.stop();
});

// ---------- the state behind the pages

interface ApiOrder {
  id: string;
  status: string;
  money: { authorised: number; captured: number; voided: number; refunded: number; lines: { productId: string; authorised: number; captured: number; voided: number; refunded: number }[] };
  shipments: { warehouse: string; trackingNumber: string; status: string; items: { productId: string; quantity: number }[] }[];
  returns: { id: string; status: string; trackingNumber: string; refundAmount: number; lines: { productId: string; quantity: number; outcome?: string }[] }[];
}

async function call<T>(method: string, route: string, token: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${stack.apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** The order as its customer reads it from the API. */
async function apiOrder(orderId: string): Promise<ApiOrder> {
  const res = await call<ApiOrder>('GET', `/api/v1/orders/${orderId}`, customer.token);
  expect(res.status).toBe(200);
  return res.body;
}

const moneyOf = async (orderId: string) => {
  const { authorised, captured, voided, refunded } = (await apiOrder(orderId)).money;
  return { authorised, captured, voided, refunded };
};

const stockOf = async (productId: string) => {
  const { available, reserved, sold, returned } = await db.stock.findUniqueOrThrow({ where: { productId } });
  return { available, reserved, sold, returned };
};

/** The carrier says it delivered this parcel: a webhook signed with the stack's key, as a carrier signs it. */
async function carrierDelivered(trackingNumber: string) {
  const body = JSON.stringify({ trackingNumber, event: 'delivered' });
  const res = await fetch(`${stack.apiUrl}/api/v1/webhooks/carrier`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...carrierSignatureHeaders(stack.secrets.CARRIER_WEBHOOK_SECRET, body) },
    body,
  });
  expect(res.status).toBe(202);
}

// ---------- the page

/** No serious or critical axe-core violation on the page as it is now, and its photograph. */
async function scan(name: string) {
  expect(await seriousViolations(page), `axe on ${name}`).toEqual([]);
  await screenshot(page, `store-${name}`);
}

const heading = () => page.locator('h1');
const hashPath = () => page.evaluate(() => window.location.hash);
const statusBadge = () => page.locator('.order-status .status');
const money = (kind: 'authorised' | 'captured' | 'voided' | 'refunded') => page.locator(`[data-money="${kind}"]`).textContent();
/** The row of the shipments table for one warehouse, and its status badge. */
const shipmentRow = (warehouse: string) => page.locator('section[aria-labelledby="ship-h"] tbody tr').filter({ has: page.locator('td:first-child', { hasText: warehouse }) });
const shipmentStatus = (warehouse: string) => shipmentRow(warehouse).locator('.status').textContent();
/** The product's row of the per-product money table: its name (the row's header), then each amount. */
const perProduct = (name: string) => page.locator('section[aria-labelledby="money-h"] table tbody tr').filter({ hasText: name }).locator('th, td').allTextContents();

/** Anything that reloads the document loses the marker. */
const markDocument = () => page.evaluate(() => ((window as unknown as { storeMarker: string }).storeMarker = 'same document'));
const sameDocument = () => page.evaluate(() => (window as unknown as { storeMarker?: string }).storeMarker);

async function fillAddress() {
  await page.getByLabel('Full name').fill('Ada Lovelace');
  await page.getByLabel('Address line 1').fill('1 Analytical St');
  await page.getByLabel('City').fill('London');
  await page.getByLabel('Postal code').fill('N1 1AA');
  await page.getByLabel('Country').selectOption('GB');
}

async function addToCart(productId: string, name: string, quantity: number) {
  await page.goto(`/#/products/${productId}`);
  await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe(name);
  await page.getByLabel('Quantity', { exact: true }).fill(String(quantity));
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByText(`Added ${quantity} to your cart`).waitFor({ timeout: WAIT });
}

async function openCheckout() {
  await page.goto('/#/checkout');
  await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe('Checkout');
  await page.locator('.summary li').first().waitFor({ timeout: WAIT });
  await fillAddress();
}

/** Places the order with the chosen test card and waits for the order page: its id and the ?placed= the checkout sent. */
async function placeOrder(card: string): Promise<{ orderId: string; placed: string }> {
  await page.getByLabel(card).check();
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect.poll(hashPath, { timeout: WAIT }).toMatch(/^#\/orders\/[0-9a-f-]{36}/);
  const [, orderId, placed] = /#\/orders\/([0-9a-f-]{36})\?placed=(\w+)/.exec(await hashPath())!;
  return { orderId, placed };
}

const cartLines = async () => (await call<{ items: { productId: string; quantity: number }[] }>('GET', '/api/v1/cart', customer.token)).body.items.map((i) => [i.productId, i.quantity]);

describe('the storefront after the sale', () => {
  it('out of stock, a slow payment, a shipment cancelled after the other left, and a return refunded, each live on the order page', { timeout: 240_000 }, async () => {
    // --- log in through the page (the account was registered over the API)
    await page.goto('/#/login');
    await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe('Log in');
    await page.getByLabel('Email').fill(VISITOR.email);
    await page.getByLabel('Password').fill(VISITOR.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: /Log out/ }).waitFor({ timeout: WAIT });

    // ===== 1. more lanterns than there are: refused as out of stock, nothing charged, the cart kept
    const lampBefore = await stockOf('prod_lamp');
    expect(lampBefore).toMatchObject({ available: 3, reserved: 0 });
    const ledgerBefore = await db.gatewayTransaction.count();
    await addToCart('prod_lamp', 'Rechargeable lantern', 5);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cart' }).click();
    await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe('Your cart');
    // the cart takes the line (stock is checked at checkout) and warns before the visitor gets there
    await expect.poll(() => page.locator('table.cart tbody tr .warning').textContent(), { timeout: WAIT }).toBe('Only 3 in stock: checkout will refuse more.');
    await openCheckout();
    await expect.poll(() => page.locator('.summary li').textContent(), { timeout: WAIT }).toContain('Only 3 in stock');
    await page.getByLabel('Test card that succeeds').check();
    await page.getByRole('button', { name: 'Place order' }).click();
    const refused = page.locator('#checkout-problem');
    await refused.waitFor({ timeout: WAIT });
    expect(await refused.textContent()).toMatch(
      /not enough stock for prod_lamp: requested 5, available 3.*\(INVENTORY_UNAVAILABLE\).*not in stock in that quantity, so nothing was ordered/,
    );
    expect(await hashPath()).toBe('#/checkout');
    expect(await page.locator('.summary li').count()).toBe(1);
    await scan('checkout-out-of-stock');
    // behind it: the order FAILED before any payment, no stock held, the cart as it was
    const [failed] = await db.order.findMany({ where: { customerId: customer.id } });
    expect(failed).toMatchObject({ status: 'FAILED', failureCode: 'INVENTORY_UNAVAILABLE' });
    expect(await db.payment.count({ where: { orderId: failed.id } })).toBe(0);
    expect(await db.gatewayTransaction.count()).toBe(ledgerBefore);
    expect(await stockOf('prod_lamp')).toEqual(lampBefore);
    expect(await cartLines()).toEqual([['prod_lamp', 5]]);
    // the cart page still holds the lanterns; the visitor takes them out
    await page.getByRole('link', { name: 'Change your cart' }).click();
    await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe('Your cart');
    await expect.poll(() => page.locator('table.cart tbody tr').count(), { timeout: WAIT }).toBe(1);
    expect(await page.getByLabel('Quantity of Rechargeable lantern').inputValue()).toBe('5');
    await page.getByRole('button', { name: 'Remove Rechargeable lantern' }).click();
    await page.getByText('Your cart is empty.').waitFor({ timeout: WAIT });
    expect(await cartLines()).toEqual([]);

    // ===== 2. the slow card: 202, the page says the bank is confirming, then CONFIRMED and PROCESSING arrive live
    await addToCart('prod_tshirt', 'Organic cotton T-shirt', 2);
    await addToCart('prod_hoodie', 'Zip hoodie', 1);
    await openCheckout();
    await markDocument();
    const checkoutAnswer = page.waitForResponse((res) => res.url().endsWith('/api/v1/checkout') && res.request().method() === 'POST', { timeout: WAIT });
    const slow = await placeOrder('Test card with a slow bank');
    expect((await checkoutAnswer).status()).toBe(202);
    expect(slow.placed).toBe('pending');
    await expect.poll(() => statusBadge().textContent(), { timeout: WAIT }).toBe('PENDING');
    expect(await page.locator('.notice.pending').textContent()).toContain('Your bank is still confirming the payment');
    expect((await db.order.findUniqueOrThrow({ where: { id: slow.orderId } })).status).toBe('PENDING');
    await expect.poll(() => page.locator('#live-status').textContent(), { timeout: WAIT }).toContain('Live: this page updates by itself');
    await scan('order-pending');
    // the bank answers: CONFIRMED (held there while the shipments are planned), then PROCESSING, all in this document
    await expect.poll(() => statusBadge().textContent(), { timeout: WAIT }).toBe('CONFIRMED');
    expect(await page.locator('.notice.pending').count()).toBe(0);
    expect(await page.locator('.notice').first().textContent()).toContain('Thank you: your order is placed');
    expect(await money('authorised')).toContain('89.48');
    expect(await moneyOf(slow.orderId)).toEqual({ authorised: 8948, captured: 0, voided: 0, refunded: 0 });
    await expect.poll(() => statusBadge().textContent(), { timeout: WAIT }).toBe('PROCESSING');
    expect(await sameDocument()).toBe('same document');
    expect(await page.locator('ol.timeline').textContent()).toMatch(/Order placed.*Order confirmed/);
    expect(await cartLines()).toEqual([]);

    // ===== 3. two warehouses: the mugs leave, the kettle (still in the warehouse) is cancelled, its amount released
    await addToCart('prod_mug', 'Enamel camping mug', 2);
    await addToCart('prod_kettle', 'Gooseneck kettle', 1);
    const kettleBefore = await stockOf('prod_kettle');
    await openCheckout();
    await markDocument();
    const split = await placeOrder('Test card that succeeds');
    await expect.poll(() => statusBadge().textContent(), { timeout: WAIT }).toBe('PROCESSING');
    await page.locator('#ship-h').waitFor({ timeout: WAIT });
    expect(await shipmentStatus('main')).toBe('IN WAREHOUSE');
    expect(await shipmentStatus('north')).toBe('IN WAREHOUSE');
    // both parcels still in the warehouse: either may be cancelled (both are chosen at first)
    const choices = page.getByRole('group', { name: 'Shipments not yet handed to the carrier' }).getByRole('checkbox');
    await expect.poll(() => choices.count(), { timeout: WAIT }).toBe(2);
    const kettleChoice = page.getByRole('checkbox', { name: /From north .*1 × Gooseneck kettle/ });
    const mugChoice = page.getByRole('checkbox', { name: /From main .*2 × Enamel camping mug/ });
    expect([await mugChoice.isChecked(), await kettleChoice.isChecked()]).toEqual([true, true]);
    // the visitor means to keep the kettle for now: only the mugs stay chosen
    await kettleChoice.uncheck();
    const cancelShipments = page.getByRole('button', { name: 'Cancel selected shipments' });
    expect(await cancelShipments.isEnabled()).toBe(true);
    // the first parcel (main: the mugs) is handed to the carrier HANDLING_MS after PROCESSING; the page hears it
    await expect.poll(() => shipmentStatus('main'), { timeout: WAIT }).toBe('HANDED TO CARRIER');
    await expect.poll(() => statusBadge().textContent(), { timeout: WAIT }).toBe('PARTIALLY SHIPPED');
    await expect.poll(() => choices.count(), { timeout: WAIT }).toBe(1);
    // what was chosen has left: nothing shown is chosen, so there is nothing to submit
    expect(await kettleChoice.isChecked()).toBe(false);
    expect(await cancelShipments.isDisabled()).toBe(true);
    // the visitor changes their mind: the kettle is not wanted after all
    await kettleChoice.check();
    expect(await cancelShipments.isEnabled()).toBe(true);
    expect(await shipmentStatus('north')).toBe('IN WAREHOUSE');
    expect(await money('captured')).toContain('25.00');
    const partly = await apiOrder(split.orderId);
    expect(partly.status).toBe('PARTIALLY_SHIPPED');
    expect(partly.shipments.map((s) => [s.warehouse, s.status])).toEqual([
      ['main', 'HANDED_TO_CARRIER'],
      ['north', 'CREATED'],
    ]);
    expect(partly.money).toMatchObject({ authorised: 9400, captured: 2500, voided: 0, refunded: 0 });
    await scan('order-partly-shipped');
    const cancelAnswer = page.waitForResponse((res) => res.url().endsWith('/shipments/cancel') && res.request().method() === 'POST', { timeout: WAIT });
    await cancelShipments.click();
    const answered = await cancelAnswer;
    expect(answered.status()).toBe(202);
    expect(answered.request().postDataJSON()).toEqual({ trackingNumbers: [partly.shipments[1].trackingNumber] });
    await expect.poll(() => shipmentStatus('north'), { timeout: WAIT }).toBe('CANCELLED');
    await expect.poll(() => money('voided'), { timeout: WAIT }).toContain('69.00');
    await expect.poll(() => page.locator('#money-back').textContent(), { timeout: WAIT }).toMatch(/Given back to your card: \$69\.00 \(the hold was released\)/);
    await expect.poll(() => statusBadge().textContent(), { timeout: WAIT }).toBe('SHIPPED');
    expect(await shipmentStatus('main')).toBe('HANDED TO CARRIER');
    expect(await money('captured')).toContain('25.00');
    expect(await perProduct('Gooseneck kettle')).toEqual(['Gooseneck kettle', '$69.00', '$69.00', '$0.00', '$69.00', '$0.00']);
    expect(await perProduct('Enamel camping mug')).toEqual(['Enamel camping mug', '$25.00', '$25.00', '$25.00', '$0.00', '$0.00']);
    // nothing left in the warehouse: no more cancelling
    expect(await cancelShipments.count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Cancel order…' }).count()).toBe(0);
    // the actions' panel has gone with nothing left to do; what was done is still said, in a live region
    expect(await page.getByRole('heading', { name: 'What you can do' }).count()).toBe(0);
    expect(await page.locator('[role="status"] .notice').allTextContents()).toContain('1 shipment(s) cancelled; their amount is released.');
    expect(await sameDocument()).toBe('same document');
    const cut = await apiOrder(split.orderId);
    expect(cut.status).toBe('SHIPPED');
    expect(cut.shipments.map((s) => [s.warehouse, s.status])).toEqual([
      ['main', 'HANDED_TO_CARRIER'],
      ['north', 'CANCELLED'],
    ]);
    expect(cut.money).toMatchObject({ authorised: 9400, captured: 2500, voided: 6900, refunded: 0 });
    // the kettle is back on sale
    await expect.poll(() => stockOf('prod_kettle'), { timeout: WAIT }).toEqual(kettleBefore);
    await scan('order-shipment-cancelled');
    // ... while the mugs go on: the carrier delivers them
    await carrierDelivered(cut.shipments[0].trackingNumber);
    await expect.poll(() => shipmentStatus('main'), { timeout: WAIT }).toBe('DELIVERED');
    await expect.poll(() => statusBadge().textContent(), { timeout: WAIT }).toBe('DELIVERED');
    expect((await db.order.findUniqueOrThrow({ where: { id: split.orderId } })).status).toBe('DELIVERED');

    // ===== 4. the slow-card order delivered, one of its two T-shirts returned, the refund live
    await page.goto(`/#/orders/${slow.orderId}`);
    await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe(`Order ${slow.orderId.slice(0, 8)}`);
    // its one parcel left HANDLING_MS after PROCESSING
    await expect.poll(() => statusBadge().textContent(), { timeout: WAIT }).toBe('SHIPPED');
    await expect.poll(() => page.locator('#live-status').textContent(), { timeout: WAIT }).toContain('Live: this page updates by itself');
    await markDocument();
    const [parcel] = (await apiOrder(slow.orderId)).shipments;
    expect(parcel).toMatchObject({ warehouse: 'main', status: 'HANDED_TO_CARRIER' });
    await carrierDelivered(parcel.trackingNumber);
    await expect.poll(() => statusBadge().textContent(), { timeout: WAIT }).toBe('DELIVERED');
    await expect.poll(() => shipmentStatus('main'), { timeout: WAIT }).toBe('DELIVERED');
    const returnForm = page.getByRole('group', { name: 'Products to return' });
    await returnForm.waitFor({ timeout: WAIT });
    expect(await returnForm.getByRole('checkbox').count()).toBe(2);
    expect(await money('captured')).toContain('89.48');
    await scan('order-delivered');
    // one T-shirt of the two goes back
    await page.getByLabel('Return Organic cotton T-shirt').check();
    const tshirtQuantity = page.getByLabel('Quantity of Organic cotton T-shirt');
    expect(await tshirtQuantity.inputValue()).toBe('2');
    await tshirtQuantity.fill('1');
    expect(await page.getByLabel('Quantity of Zip hoodie').isDisabled()).toBe(true);
    await page.getByLabel('Why are you returning them?').fill('one is enough');
    const tshirtBefore = await stockOf('prod_tshirt');
    await page.getByRole('button', { name: 'Request return' }).click();
    await expect.poll(() => statusBadge().textContent(), { timeout: WAIT }).toBe('RETURN REQUESTED');
    const requested = await apiOrder(slow.orderId);
    expect(requested.returns).toHaveLength(1);
    const ret = requested.returns[0];
    expect(ret).toMatchObject({ status: 'REQUESTED', refundAmount: 0, lines: [{ productId: 'prod_tshirt', quantity: 1 }] });
    expect(ret.trackingNumber).toMatch(/^RT/);
    await expect.poll(() => page.locator('[role="status"] .notice').allTextContents(), { timeout: WAIT }).toContain(
      `Return requested. Send the parcel with tracking number ${ret.trackingNumber}; you are refunded once the warehouse has checked it.`,
    );
    const returnCard = page.locator('section[aria-labelledby="returns-h"] li').first();
    await expect.poll(() => returnCard.locator('.status').textContent(), { timeout: WAIT }).toBe('REQUESTED');
    expect(await returnCard.locator('code').textContent()).toBe(ret.trackingNumber);
    expect(await returnCard.textContent()).toMatch(/1 × Organic cotton T-shirt · ?refunded \$0\.00/);
    // the other T-shirt and the hoodie may still go back
    expect(await page.getByLabel('Quantity of Organic cotton T-shirt').getAttribute('max')).toBe('1');
    expect(await moneyOf(slow.orderId)).toEqual({ authorised: 8948, captured: 8948, voided: 0, refunded: 0 });
    expect(await db.payment.count({ where: { orderId: slow.orderId, kind: 'REFUND' } })).toBe(0);
    expect(await stockOf('prod_tshirt')).toEqual(tshirtBefore);
    await scan('order-return-requested');

    // the warehouse receives the parcel and restocks the T-shirt (the admin API): the refund shows on the page by itself
    const received = await call<{ accepted: boolean }>('POST', `/api/v1/admin/orders/${slow.orderId}/returns/${encodeURIComponent(ret.id)}/received`, adminToken, {
      note: 'folded, unworn',
      inspection: [{ productId: 'prod_tshirt', quantity: 1, outcome: 'RESTOCK' }],
    });
    expect(received.status).toBe(202);
    expect(received.body.accepted).toBe(true);
    await expect.poll(() => returnCard.locator('.status').textContent(), { timeout: WAIT }).toBe('REFUNDED');
    await expect.poll(() => money('refunded'), { timeout: WAIT }).toContain('19.99');
    await expect.poll(() => statusBadge().textContent(), { timeout: WAIT }).toBe('PARTIALLY RETURNED');
    expect(await returnCard.textContent()).toMatch(/1 × Organic cotton T-shirt \(Restock\) · ?refunded \$19\.99/);
    expect(await page.locator('#money-back').textContent()).toMatch(/Given back to your card: \$19\.99 \(refunded\)/);
    expect(await perProduct('Organic cotton T-shirt')).toEqual(['Organic cotton T-shirt', '$39.98', '$39.98', '$39.98', '$0.00', '$19.99']);
    expect(await sameDocument()).toBe('same document');
    const refunded = await apiOrder(slow.orderId);
    expect(refunded.status).toBe('PARTIALLY_RETURNED');
    expect(refunded.returns[0]).toMatchObject({ status: 'REFUNDED', refundAmount: 1999, lines: [{ productId: 'prod_tshirt', quantity: 1, outcome: 'RESTOCK' }] });
    expect(refunded.money).toMatchObject({ authorised: 8948, captured: 8948, voided: 0, refunded: 1999 });
    expect(await stockOf('prod_tshirt')).toEqual({ ...tshirtBefore, available: tshirtBefore.available + 1, returned: tshirtBefore.returned + 1 });
    await scan('order-refunded');

    expect(problems).toEqual([]);
    await expect.poll(() => assertBooksBalance(db, initial), { timeout: WAIT, interval: 500 }).toEqual([]);
  });
});
