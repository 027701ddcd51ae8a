/**
 * The operator console in a real Chromium against the whole stack: an operator
 * logs in through the page, finds an order the payment gateway's fault hook
 * (tok_captureRefused: the first capture is refused) put in NEEDS_ATTENTION,
 * retries its payment and sees it resolve; cancels the held shipments of
 * another from its detail page; changes stock; receives and inspects a return;
 * works a webhook subscription's deliveries. Every console page is scanned with
 * axe-core (no serious or critical violation) and photographed; the books
 * balance at the end.
 */
import { createServer } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carrierSignatureHeaders } from '../../api/carrier-signature';
import type { Db } from '../../prisma/client';
import type { Stack } from '../../scripts/stack';
import { assertBooksBalance, initialStock } from '../support/books';
import { launchBrowser, openContext, screenshot, seriousViolations } from '../support/browser';
import { registerAndLogin, startE2eStack, type E2eStack } from '../support/e2e-stack';
import { until } from '../support/until';

const ADMIN = { email: 'console-operator@example.com', password: 'console operator password 1' };
const CUSTOMER = { email: 'console-customer@example.com', password: 'correct horse battery' };
const PRODUCT = 'prod_console_widget';
const TEMPORAL_UI = 'https://temporal-ui.example.test';
/** each wait in this file is bounded by this */
const WAIT = 30_000;

let e2e: E2eStack;
let stack: Stack;
let db: Db;
let initial: Record<string, number>;
let customer: { id: string; token: string };
let admin: string;
let browser: Browser;
let page: Page;
let problems: string[];
/** a subscription whose receiver never answers (a closed port): its deliveries wait, each with its error */
let deadSubscription: string;

async function call(method: string, route: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** a loopback port nothing listens on */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const address = { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode: 'N1 1AA', country: 'GB' };
async function placeOrder(token: string, quantity = 1): Promise<string> {
  const res = await call('POST', '/api/v1/orders', customer.token, { items: [{ productId: PRODUCT, quantity }], shippingAddress: address, paymentMethod: { token } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.orderId as string;
}

const statusOf = async (orderId: string) => (await db.order.findUniqueOrThrow({ where: { id: orderId }, select: { status: true } })).status;
const waitFor = (orderId: string, status: string) => until(`${orderId} ${status}`, async () => (await statusOf(orderId)) === status, WAIT);
const heldByRefusedCapture = async () => {
  const orderId = await placeOrder('tok_captureRefused');
  await waitFor(orderId, 'NEEDS_ATTENTION');
  return orderId;
};

/** the page's axe-core scan has no serious or critical violation; then a screenshot */
async function scanned(name: string) {
  expect(await seriousViolations(page), name).toEqual([]);
  await screenshot(page, `console-${name}`);
}

async function open(route: string, heading: string) {
  await page.goto(`/#${route}`);
  await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: WAIT }).toBe(heading);
  await page.locator('.loading').first().waitFor({ state: 'detached', timeout: WAIT });
}

const announced = (text: RegExp) => expect.poll(() => page.locator('.announce').textContent(), { timeout: WAIT }).toMatch(text);

beforeAll(async () => {
  e2e = await startE2eStack('console-e2e-', {
    CHECKOUT_WAIT_MS: '30000',
    LOG_LEVEL: 'warn',
    FULFILMENT_HANDLING_MS: '1000',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    RATE_LIMIT_PER_MINUTE: '0',
    TEMPORAL_UI_URL: TEMPORAL_UI,
    FEED_ALLOWED_PRIVATE_TARGETS: '127.0.0.1',
  });
  ({ stack, db } = e2e);
  customer = await registerAndLogin(stack.apiUrl, CUSTOMER.email, CUSTOMER.password);
  const login = await fetch(`${stack.apiUrl}/api/v1/users/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  admin = ((await login.json()) as { accessToken: string }).accessToken;
  const product = await call('POST', '/api/v1/admin/products', admin, { id: PRODUCT, sku: 'CON-001', name: 'Console widget', category: 'test', price: { amount: 1500, currency: 'USD' }, stock: 100 });
  expect(product.status).toBe(201);
  const sub = await call('POST', '/api/v1/admin/webhooks', admin, { url: `http://127.0.0.1:${await closedPort()}/hook`, description: 'a receiver that is down' });
  expect(sub.status).toBe(201);
  deadSubscription = sub.body.id;
  initial = await initialStock(db);
  browser = await launchBrowser();
  ({ page, problems } = await openContext(browser, stack.apiUrl));
});

afterAll(async () => {
  await browser?.close();
  await e2e?.stop();
});

describe('the operator console', () => {
  it('an operator logs in through the page, finds the order a refused capture put in NEEDS_ATTENTION, retries its payment and sees it resolve', async () => {
    const orderId = await heldByRefusedCapture();
    const short = orderId.slice(0, 8);

    // the console is for admins: the page sends the operator to log in first, then back
    await page.goto('/#/console/attention');
    await page.getByLabel('Email').waitFor({ timeout: WAIT });
    expect(page.url()).toContain('#/login');
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: /log in/i }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: WAIT }).toBe('Needs attention');
    await page.locator('.loading').first().waitFor({ state: 'detached', timeout: WAIT });

    const card = page.locator('li.attention-card', { has: page.getByRole('link', { name: `Order ${short}` }) });
    await expect.poll(() => card.count(), { timeout: WAIT }).toBe(1);
    const reason = await card.textContent();
    expect(reason).toContain('CAPTURE_REFUSED');
    expect(reason).toContain(CUSTOMER.email);
    const retry = card.getByRole('button', { name: 'Retry payment' });
    expect(await retry.isVisible()).toBe(true);
    expect(await card.getByRole('button', { name: 'Cancel shipments' }).isVisible()).toBe(true);
    expect(await card.getByRole('button', { name: 'Retry compensations' }).count()).toBe(0);
    await scanned('attention');

    // by keyboard: the button takes focus and Enter presses it
    await retry.focus();
    await page.keyboard.press('Enter');
    await announced(new RegExp(`^Order ${short} resolved: now (?!NEEDS)`));
    await expect.poll(() => card.count(), { timeout: WAIT }).toBe(0);
    await waitFor(orderId, 'SHIPPED');
    const after = await call('GET', `/api/v1/admin/orders/${orderId}`, admin);
    expect(after.body).toMatchObject({ status: 'SHIPPED', attention: null, repairs: [], money: { authorised: 1500, captured: 1500 } });
    await screenshot(page, 'console-attention-resolved');

    // the order's page: its status, money, shipment and timeline, and the saga in the Temporal Web UI
    await open(`/console/orders/${orderId}`, `Order ${short}`);
    const main = page.locator('main');
    await expect.poll(() => main.textContent(), { timeout: WAIT }).toContain('SHIPPED');
    const text = await main.textContent();
    for (const s of ['Console widget', 'CAPTURE_REFUSED', 'ATTENTION RESOLVED', 'HANDED TO CARRIER', after.body.shipments[0].trackingNumber]) expect(text).toContain(s);
    const link = page.getByRole('link', { name: /Open workflow in Temporal Web UI/ });
    expect(await link.getAttribute('href')).toBe(`${TEMPORAL_UI}/namespaces/default/workflows/${encodeURIComponent(after.body.workflowId)}`);
    await scanned('order');
  });

  it('cancels the held shipments of another such order from its page: the order resolves CANCELLED, its authorisation voided', async () => {
    const orderId = await heldByRefusedCapture();
    const short = orderId.slice(0, 8);
    await open(`/console/orders/${orderId}`, `Order ${short}`);
    await page.getByRole('button', { name: 'Cancel shipments' }).click();
    await page.getByLabel('Reason (optional)').fill('the card will not do');
    await scanned('order-cancel');
    await page.getByRole('button', { name: 'Confirm cancel shipments' }).click();
    await announced(new RegExp(`^Order ${short} resolved: now CANCELLED`));
    await waitFor(orderId, 'CANCELLED');
    await until('voided', async () => (await call('GET', `/api/v1/admin/orders/${orderId}`, admin)).body.money.voided === 1500, WAIT);
    await expect.poll(() => page.locator('main').textContent(), { timeout: WAIT }).toContain('No repair applies now.');
  });

  it('lists orders by status and finds them by customer e-mail and by tracking number', async () => {
    const [shipped] = await db.order.findMany({ where: { status: 'SHIPPED' }, select: { id: true } });
    const { trackingNumber } = await db.shipment.findFirstOrThrow({ where: { orderId: shipped.id } });
    await open('/console', 'Orders');
    const rows = page.locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: WAIT }).toBe(2);
    await scanned('orders');

    await page.getByLabel('Status').selectOption('CANCELLED');
    await page.getByRole('button', { name: 'Show orders' }).click();
    await expect.poll(() => page.url()).toContain('status=CANCELLED');
    await expect.poll(async () => (await rows.allTextContents()).join('|'), { timeout: WAIT }).toMatch(/^[^|]*CANCELLED[^|]*$/);

    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Search').fill(trackingNumber);
    await page.getByRole('button', { name: 'Show orders' }).click();
    await expect.poll(async () => (await rows.allTextContents()).join('|'), { timeout: WAIT }).toContain(shipped.id.slice(0, 8));
    expect(await rows.count()).toBe(1);

    await page.getByLabel('Search').fill('console-cust');
    await page.getByRole('button', { name: 'Show orders' }).click();
    await expect.poll(() => page.url()).toContain('q=console-cust');
    await expect.poll(() => rows.count(), { timeout: WAIT }).toBe(2);
    await page.getByRole('link', { name: new RegExp(shipped.id.slice(0, 8)) }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: WAIT }).toBe(`Order ${shipped.id.slice(0, 8)}`);
  });

  it('shows each product with its warehouse and every stock count, finds it by SKU and warehouse, sets and adds stock per product', async () => {
    await open('/console/stock', 'Stock');
    const row = page.locator('tbody tr', { hasText: 'Console widget' });
    await row.waitFor({ timeout: WAIT });
    await scanned('stock');
    const before = (await db.stock.findUniqueOrThrow({ where: { productId: PRODUCT } })).available;
    const headers = await page.locator('thead th').allTextContents();
    expect(headers.slice(0, 8)).toEqual(['Product', 'SKU', 'Warehouse', 'Active', 'Available', 'Reserved', 'Sold', 'Returned']);
    // SKU, warehouse, active, available, reserved, sold (the first order's unit, shipped), returned
    const cells = async () => (await row.locator('td').allTextContents()).slice(0, 7);
    expect(await cells()).toEqual(['CON-001', 'main', 'Yes', String(before), '0', '1', '0']);

    // the search box (the start of the SKU, any case) and the warehouse filter
    await page.getByLabel('Product name or SKU').fill('con-0');
    await page.getByLabel('Warehouse', { exact: true }).fill('MAIN');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
    await expect.poll(() => page.url()).toContain('warehouse=MAIN');
    const rows = page.locator('tbody tr');
    await expect.poll(async () => (await rows.allTextContents()).join('|'), { timeout: WAIT }).toMatch(/^[^|]*Console widget[^|]*$/);
    await page.getByLabel('Warehouse', { exact: true }).fill('north');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
    await expect.poll(() => page.locator('main').textContent(), { timeout: WAIT }).toContain('No product matches.');
    await page.getByLabel('Warehouse', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
    await row.waitFor({ timeout: WAIT });

    await row.getByLabel('Units for Console widget').fill('5');
    await row.getByRole('button', { name: 'Apply to Console widget' }).click();
    await announced(new RegExp(`^Console widget: ${before + 5} available, 0 reserved, 1 sold, 0 returned`));
    initial[PRODUCT] += 5;

    await row.getByLabel('How to change the stock of Console widget').selectOption('set');
    await row.getByLabel('Units for Console widget').fill('90');
    await row.getByRole('button', { name: 'Apply to Console widget' }).click();
    await announced(/^Console widget: 90 available/);
    initial[PRODUCT] += 90 - (before + 5);
    expect((await db.stock.findUniqueOrThrow({ where: { productId: PRODUCT } })).available).toBe(90);
    await expect.poll(cells, { timeout: WAIT }).toEqual(['CON-001', 'main', 'Yes', '90', '0', '1', '0']);
  });

  it('receives a return with a note and inspects it line by line', async () => {
    const orderId = await placeOrder('tok_visa', 2);
    await waitFor(orderId, 'SHIPPED');
    const { trackingNumber } = await db.shipment.findFirstOrThrow({ where: { orderId } });
    const body = JSON.stringify({ trackingNumber, event: 'delivered' });
    const delivered = await fetch(`${stack.apiUrl}/api/v1/webhooks/carrier`, { method: 'POST', headers: { 'content-type': 'application/json', ...carrierSignatureHeaders(stack.secrets.CARRIER_WEBHOOK_SECRET, body) }, body });
    expect(delivered.status).toBe(202);
    await waitFor(orderId, 'DELIVERED');
    const asked = await call('POST', `/api/v1/orders/${orderId}/returns`, customer.token, { reason: 'one is enough', lines: [{ productId: PRODUCT, quantity: 1 }] });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    const returnId: string = asked.body.id;

    await open('/console/returns', 'Returns');
    const card = page.locator('li.card', { hasText: returnId });
    await card.waitFor({ timeout: WAIT });
    // each line by its product's name
    await expect.poll(() => card.textContent(), { timeout: WAIT }).toContain(`1 × Console widget ${PRODUCT}`);
    await scanned('returns');
    await card.getByLabel('Warehouse note (optional)').fill('box dented, widget fine');
    await card.getByRole('button', { name: /Record receipt/ }).click();
    await announced(new RegExp(`^Return ${returnId}: receipt recorded, now RECEIVED`));

    const inspect = page.getByRole('region', { name: 'Awaiting inspection' }).locator('li.card', { hasText: returnId });
    await inspect.waitFor({ timeout: WAIT });
    await inspect.getByLabel(`1 × Console widget (${PRODUCT})`).selectOption('REJECT');
    await inspect.getByLabel('Why rejected (Console widget)').fill('scratched by the customer');
    await scanned('returns-inspect');
    await inspect.getByLabel(`1 × Console widget (${PRODUCT})`).selectOption('RESTOCK');
    await inspect.getByRole('button', { name: /Record inspection/ }).click();
    await announced(new RegExp(`^Return ${returnId}: inspection recorded, now REFUNDED`));
    const ret = await db.orderReturn.findUniqueOrThrow({ where: { id: returnId } });
    expect(ret.status).toBe('REFUNDED');
    expect((await call('GET', `/api/v1/admin/orders/${orderId}`, admin)).body.money).toMatchObject({ captured: 3000, refunded: 1500 });
  });

  it('works a webhook subscription: its deliveries with their errors, skip, redeliver, pause, replay; a new one shows its secret once', async () => {
    await until('a refused attempt recorded', async () => (await db.feedDelivery.count({ where: { subscriptionId: deadSubscription, attempts: { gt: 0 } } })) > 0, WAIT);
    await open('/console/webhooks', 'Webhooks');
    await scanned('webhooks');
    await page.getByRole('link', { name: /\/hook$/ }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: WAIT }).toBe('Webhook subscription');
    await page.locator('.loading').first().waitFor({ state: 'detached', timeout: WAIT });
    await page.getByLabel('Status').selectOption('PENDING');
    const row = page.locator('tbody tr', { hasText: 'ECONNREFUSED' }).first();
    await row.waitFor({ timeout: WAIT });
    await scanned('webhook');
    const deliveryId = (await row.locator('td').first().textContent())!;
    await row.getByRole('button', { name: `Skip delivery ${deliveryId}`, exact: true }).click();
    await announced(new RegExp(`^Delivery ${deliveryId} skipped`));
    expect((await db.feedDelivery.findUniqueOrThrow({ where: { id: BigInt(deliveryId) } })).status).toBe('SKIPPED');

    await page.getByLabel('Status').selectOption('SKIPPED');
    const skipped = page.locator('tbody tr', { hasText: deliveryId }).first();
    await skipped.getByRole('button', { name: `Redeliver delivery ${deliveryId}`, exact: true }).click();
    await announced(new RegExp(`^Delivery ${deliveryId} queued again`));

    await page.getByRole('button', { name: 'Pause' }).click();
    await announced(/^Subscription paused/);
    expect((await db.feedSubscription.findUniqueOrThrow({ where: { id: deadSubscription } })).status).toBe('PAUSED');
    await page.getByRole('button', { name: 'Resume' }).click();
    await announced(/^Subscription resumed/);

    const first = await db.orderEvent.findFirstOrThrow({ orderBy: { id: 'asc' } });
    await page.getByLabel('Event id').fill(String(first.id));
    await page.getByRole('button', { name: 'Replay' }).click();
    await announced(/^Replay queued \d+ deliver/);

    await open('/console/webhooks', 'Webhooks');
    await page.getByLabel('URL').fill('http://127.0.0.1:9/erp');
    await page.getByLabel('Description').fill('ERP sync');
    await page.getByLabel('Event types').fill('order.status.*');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await expect.poll(() => page.locator('code.secret').textContent(), { timeout: WAIT }).toMatch(/^whsec_/);
    await expect.poll(() => page.locator('tbody tr').count(), { timeout: WAIT }).toBe(2);
    expect(await page.locator('tbody').textContent()).toContain('order.status.*');
    await scanned('webhooks-created');
  });

  it('the console pages threw no script error and broke no content policy; the books balance', async () => {
    expect(problems).toEqual([]);
    await until('no payment in flight', async () => (await db.payment.count({ where: { status: 'PENDING' } })) === 0, WAIT);
    expect(await assertBooksBalance(db, initial)).toEqual([]);
  });
});
