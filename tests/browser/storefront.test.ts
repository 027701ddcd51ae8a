/**
 * The storefront in a real Chromium against the whole stack `npm start` boots
 * (PostgreSQL, Temporal, every worker, the API serving web/dist; the demo
 * catalog is seeded at start): a visitor registers, fills a cart, is declined
 * by one test card and keeps the cart, pays with the card that succeeds,
 * watches the order go CONFIRMED → PROCESSING live over its event stream
 * (no reload), cancels it and sees CANCELLED and the money given back. Each
 * page is scanned with axe-core and photographed; the books balance after.
 *
 * CONFIRMED and PROCESSING are normally a few milliseconds apart (the saga
 * plans the shipments right after confirming): the workers here hold the
 * result of planShipments for a few seconds (the fault suite's
 * FAULT_HOLD_AFTER_ACTIVITIES hook), so the order page is open while the
 * order is still CONFIRMED. The warehouse handling time is long, so the
 * order stays cancellable for the whole test.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../prisma/client';
import type { Stack } from '../../scripts/stack';
import { FAULT_WORKER } from '../faults/support/fault-stack';
import { assertBooksBalance, initialStock } from '../support/books';
import { launchBrowser, openContext, screenshot, seriousViolations } from '../support/browser';
import { startE2eStack, type E2eStack } from '../support/e2e-stack';

const WAIT = 30_000;
const HOLD_PLANNING_MS = 4_000;
const VISITOR = { email: `shopper-${Date.now()}@example.com`, password: 'correct horse battery' };

let e2e: E2eStack;
let stack: Stack;
let db: Db;
let initial: Record<string, number>;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];

beforeAll(async () => {
  e2e = await startE2eStack(
    'store-e2e-',
    {
      CHECKOUT_WAIT_MS: '30000',
      LOG_LEVEL: 'warn',
      // the first parcel would leave the warehouse after 10 minutes: the order stays cancellable throughout
      FULFILMENT_HANDLING_MS: '600000',
      FAULT_HOLD_AFTER_ACTIVITIES: 'planShipments',
      FAULT_HOLD_MS: String(HOLD_PLANNING_MS),
    },
    { worker: FAULT_WORKER },
  );
  ({ stack, db } = e2e);
  initial = await initialStock(db);
  browser = await launchBrowser();
  ({ context, page, problems } = await openContext(browser, stack.apiUrl));
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await e2e?.stop();
});

/** No serious or critical axe-core violation on the page as it is now, and its photograph. */
async function scan(name: string) {
  expect(await seriousViolations(page), `axe on ${name}`).toEqual([]);
  await screenshot(page, `store-${name}`);
}

const heading = () => page.locator('h1');
const hashPath = () => page.evaluate(() => window.location.hash);
const statusBadge = () => page.locator('.order-status .status');

async function fillAddress() {
  await page.getByLabel('Full name').fill('Ada Lovelace');
  await page.getByLabel('Address line 1').fill('1 Analytical St');
  await page.getByLabel('City').fill('London');
  await page.getByLabel('Postal code').fill('N1 1AA');
  await page.getByLabel('Country').selectOption('GB');
}

describe('the storefront in a browser', () => {
  it('register, cart, a declined card, checkout, the order live to PROCESSING, cancel and the money back', { timeout: 300_000 }, async () => {
    // --- register (an API refusal shows at its field first)
    await page.goto('/#/register');
    await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe('Create an account');
    await scan('register');
    await page.getByLabel('Email').fill('not-an-email');
    await page.getByLabel('Password').fill(VISITOR.password);
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.locator('#register-email-error').waitFor({ timeout: WAIT });
    await page.getByLabel('Email').fill(VISITOR.email);
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByRole('button', { name: /Log out/ }).waitFor({ timeout: WAIT });

    // --- catalog: the seeded demo products, search and category filter
    await expect.poll(hashPath).toBe('#/');
    await page.locator('ul.products li').first().waitFor({ timeout: WAIT });
    expect(await page.locator('ul.products li').count()).toBeGreaterThanOrEqual(6);
    await scan('catalog');
    await page.getByLabel('Search').fill('mug');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('ul.products li h2').allTextContents(), { timeout: WAIT }).toEqual(['Enamel camping mug']);
    await page.getByRole('link', { name: 'Clear filters' }).click();
    await expect.poll(hashPath).toBe('#/');
    await expect.poll(() => page.locator('ul.products li').count(), { timeout: WAIT }).toBeGreaterThanOrEqual(6);
    expect(await page.getByLabel('Search').inputValue()).toBe('');
    await page.getByLabel('Category').selectOption('kitchen');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(async () => (await page.locator('ul.products li h2').allTextContents()).sort(), { timeout: WAIT }).toEqual(['Enamel camping mug', 'Gooseneck kettle']);

    // --- product pages: two products into the cart (two warehouses: two shipments)
    await page.getByRole('link', { name: 'Enamel camping mug' }).click();
    await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe('Enamel camping mug');
    await expect.poll(() => page.locator('.product-detail .price').textContent()).toContain('12.50');
    await page.getByLabel('Quantity', { exact: true }).fill('2');
    await scan('product');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByText('Added 2 to your cart').waitFor({ timeout: WAIT });
    await page.goto('/#/products/prod_kettle');
    await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe('Gooseneck kettle');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByText('Added 1 to your cart').waitFor({ timeout: WAIT });

    // --- cart: a quantity the API refuses shows its rule at the line; a good one is taken
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cart' }).click();
    await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe('Your cart');
    await page.locator('table.cart tbody tr').nth(1).waitFor({ timeout: WAIT });
    await page.getByLabel('Quantity of Enamel camping mug').fill('100');
    await page.getByRole('button', { name: 'Update quantity of Enamel camping mug' }).click();
    await page.getByRole('alert').filter({ hasText: 'QUANTITY_OUT_OF_RANGE' }).waitFor({ timeout: WAIT });
    await page.getByLabel('Quantity of Enamel camping mug').fill('3');
    await page.getByRole('button', { name: 'Update quantity of Enamel camping mug' }).click();
    await expect.poll(() => page.locator('tfoot .total').textContent(), { timeout: WAIT }).toContain('106.50');
    await page.getByLabel('Quantity of Enamel camping mug').fill('2');
    await page.getByRole('button', { name: 'Update quantity of Enamel camping mug' }).click();
    await expect.poll(() => page.locator('tfoot .total').textContent(), { timeout: WAIT }).toContain('94.00');
    await scan('cart');

    // --- checkout with the declined card: its message, still on checkout, the cart keeps its items
    await page.getByRole('link', { name: 'Check out' }).click();
    await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe('Checkout');
    await fillAddress();
    await page.getByLabel('Test card that is declined').check();
    await scan('checkout');
    await page.getByRole('button', { name: 'Place order' }).click();
    const declined = page.locator('#checkout-problem');
    await declined.waitFor({ timeout: WAIT });
    expect(await declined.textContent()).toMatch(/payment declined: card_declined.*PAYMENT_DECLINED.*cart still holds your items/);
    expect(await hashPath()).toBe('#/checkout');
    expect(await page.locator('.summary li').count()).toBe(2);
    await scan('checkout-declined');
    await page.getByRole('link', { name: 'Change your cart' }).click();
    await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe('Your cart');
    await expect.poll(() => page.locator('table.cart tbody tr').count(), { timeout: WAIT }).toBe(2);
    await expect.poll(() => page.locator('tfoot .total').textContent()).toContain('94.00');

    // --- checkout with the card that succeeds: the order page, CONFIRMED then PROCESSING arriving live
    await page.getByRole('link', { name: 'Check out' }).click();
    await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe('Checkout');
    await fillAddress();
    await page.getByLabel('Test card that succeeds').check();
    // anything that reloads the document loses this
    await page.evaluate(() => ((window as unknown as { storeMarker: string }).storeMarker = 'same document'));
    const timeOrigin = await page.evaluate(() => performance.timeOrigin);
    await page.getByRole('button', { name: 'Place order' }).click();
    await expect.poll(hashPath, { timeout: WAIT }).toMatch(/^#\/orders\/[0-9a-f-]{36}/);
    const orderId = /#\/orders\/([0-9a-f-]{36})/.exec(await hashPath())![1];
    await expect.poll(() => statusBadge().textContent(), { timeout: WAIT }).toBe('CONFIRMED');
    await expect.poll(() => page.locator('#live-status').textContent(), { timeout: WAIT }).toContain('Live: this page updates by itself');
    // the API has it PROCESSING only after the held planning: the page learns it from the stream
    await expect.poll(() => statusBadge().textContent(), { timeout: WAIT }).toBe('PROCESSING');
    expect(await page.evaluate(() => (window as unknown as { storeMarker?: string }).storeMarker)).toBe('same document');
    expect(await page.evaluate(() => performance.timeOrigin)).toBe(timeOrigin);
    expect((await db.order.findUniqueOrThrow({ where: { id: orderId } })).status).toBe('PROCESSING');
    await page.locator('#ship-h').waitFor({ timeout: WAIT });
    expect(await page.locator('.order-status').textContent()).toContain('PROCESSING');
    expect(await page.locator('[data-money="authorised"]').textContent()).toContain('94.00');
    expect(await page.locator('ol.timeline').textContent()).toContain('Order confirmed');
    await scan('order');

    // --- cancel: CANCELLED arrives, the hold on the card is given back
    await page.getByRole('button', { name: 'Cancel order…' }).click();
    await page.getByLabel('Reason (optional)').fill('changed my mind');
    await page.getByRole('button', { name: 'Confirm cancellation' }).click();
    await expect.poll(() => statusBadge().textContent(), { timeout: WAIT }).toBe('CANCELLED');
    await expect.poll(() => page.locator('#money-back').textContent(), { timeout: WAIT }).toMatch(/Given back to your card: \$94\.00/);
    expect(await page.locator('[data-money="voided"]').textContent()).toContain('94.00');
    expect(await page.locator('[data-money="captured"]').textContent()).toContain('0.00');
    await expect.poll(() => page.locator('#live-status').textContent(), { timeout: WAIT }).toContain('finished');
    expect(await page.evaluate(() => (window as unknown as { storeMarker?: string }).storeMarker)).toBe('same document');
    await screenshot(page, 'store-order-cancelled');

    // --- my orders: the declined one and the cancelled one
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My orders' }).click();
    await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe('My orders');
    await expect.poll(async () => (await page.locator('table.orders tbody .status').allTextContents()).sort(), { timeout: WAIT }).toEqual(['CANCELLED', 'FAILED']);
    await scan('orders');

    // --- log out, then log in again through ?next= (a wrong password is refused where it applies)
    await page.getByRole('button', { name: /Log out/ }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' }).waitFor({ timeout: WAIT });
    await page.goto('/#/orders');
    await expect.poll(hashPath, { timeout: WAIT }).toBe('#/login?next=%2Forders');
    await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe('Log in');
    await scan('login');
    await page.getByLabel('Email').fill(VISITOR.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'UNAUTHENTICATED' }).waitFor({ timeout: WAIT });
    await page.getByLabel('Password').fill(VISITOR.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => heading().textContent(), { timeout: WAIT }).toBe('My orders');
    expect(await hashPath()).toBe('#/orders');

    expect(problems).toEqual([]);
    // both orders have ended (FAILED, CANCELLED): stock back on sale, the authorisation voided
    await expect.poll(() => assertBooksBalance(db, initial), { timeout: WAIT, interval: 500 }).toEqual([]);
  });
});
