/**
 * The API reference at /docs in a real Chromium: Scalar's bundle, served from
 * our own build, draws every tag of /openapi.json; nothing is fetched from
 * another origin (it works offline), the page's policy blocks nothing it needs,
 * and axe-core finds no serious or critical violation.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOfflineBackend } from '../api/support/offline-backend';
import { perSuite } from '../api/support/suite';
import { launchBrowser, openContext, screenshot, seriousViolations } from '../support/browser';

const backend = perSuite(() => startOfflineBackend('api-reference'));
let server: ServerType;
let origin: string;
let browser: Browser;

beforeAll(async () => {
  server = serve({ fetch: backend.app().fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

it('/docs draws the document from this origin alone, with no serious accessibility violation', async () => {
  const { context, page, problems } = await openContext(browser, origin);
  const elsewhere: string[] = [];
  page.on('request', (req) => {
    if (!req.url().startsWith(origin) && !req.url().startsWith('data:')) elsewhere.push(req.url());
  });
  const res = await page.goto('/docs');
  expect(res?.status()).toBe(200);
  // the first route drawn, and every tag of the document in its sidebar (later sections draw as they scroll into view)
  await page.getByText('Create a customer account').first().waitFor({ timeout: 30_000 });
  const doc = (await (await fetch(`${origin}/openapi.json`)).json()) as { tags: { name: string }[] };
  const navigation = page.locator('aside').first();
  for (const { name } of doc.tags) await navigation.getByText(name, { exact: true }).first().waitFor({ timeout: 5_000 });
  expect(elsewhere).toEqual([]);
  expect(problems).toEqual([]);
  expect(await seriousViolations(page)).toEqual([]);
  await screenshot(page, 'docs');
  await context.close();
});
