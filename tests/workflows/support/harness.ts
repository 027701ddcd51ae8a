// One time-skipping environment and one set of workers per test file, the fake
// shops they route to, and the helpers the workflow tests drive orders with.
//
// RECORD_HISTORIES=1 npx vitest run tests/workflows/place-order.test.ts tests/workflows/fulfilment.test.ts
// rewrites tests/workflows/histories/<scenario>.json, which replay.test.ts replays.
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { OrderStatus } from '../../../domain/order-status';
import { TestTokens } from '../../../domain/payment';
import type { placeOrder } from '../../../workflows/place-order';
import { timeSkippingEnv } from '../../support/temporal';
import { createWorkers, runWorkers } from '../../support/workers';
import { routeByOrder, type FakeShop } from './fake-shop';
import { TaskQueues, getStatusQuery, orderWorkflowId, type OrderState, type PlaceOrderInput } from '../../../temporal-config/place-order';

export const RECORD = process.env.RECORD_HISTORIES === '1';
// RECORD_HISTORIES_DIR records elsewhere: a new generation of histories joins the old ones instead of replacing them
export const HISTORIES_DIR = process.env.RECORD_HISTORIES_DIR ?? fileURLToPath(new URL('../histories/', import.meta.url));
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

// The SDK's historyToJSON (@temporalio/common/lib/proto-utils) throws "type must be
// a Type" in this install: @temporalio/common and @temporalio/proto each carry their
// own protobufjs copy. The ProtoJSON of the copy @temporalio/proto loads writes the
// same format (the one `temporal workflow show -o json` writes) in any layout.
const require = createRequire(import.meta.url);
const protoRoot = require('@temporalio/proto') as typeof import('@temporalio/proto');
const protojson = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as {
  toJson(type: unknown, message: unknown): unknown;
};
const historyType = (patchProtobufRoot(protoRoot) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');
const historyToJson = (history: temporal.api.history.v1.IHistory) =>
  protojson.toJson(historyType, protoRoot.temporal.api.history.v1.History.fromObject(history));

export type OrderHandle = WorkflowHandle<typeof placeOrder>;

/** With RECORD_HISTORIES=1, writes the workflow's history as <scenario>.json for replay.test.ts. */
export async function recordHistory(handle: WorkflowHandle, scenario: string): Promise<void> {
  if (!RECORD) return;
  await mkdir(HISTORIES_DIR, { recursive: true });
  const history = historyToJson(await handle.fetchHistory());
  await writeFile(path.join(HISTORIES_DIR, `${scenario}.json`), `${JSON.stringify(history, null, 2)}\n`);
}

export interface Harness {
  readonly env: TestWorkflowEnvironment;
  /** Starts the saga the way a duplicate can never slip in: FAIL while running, REJECT_DUPLICATE after. */
  startOrder(shop: FakeShop, input: PlaceOrderInput): Promise<OrderHandle>;
  /** Awaits the result (time skips meanwhile), reads getStatus, and records the history if asked. */
  finish(handle: OrderHandle, scenario: string): Promise<{ result: OrderState; status: OrderState }>;
  /** Lets (skipped) workflow time pass until `done` holds; for waits with no result() to await. */
  advanceUntil(done: () => boolean, what: string, stepMs?: number, maxSteps?: number): Promise<void>;
  /**
   * Lets workflow time pass in steps (skipped) until getStatus shows `status`.
   * Only for a status the order then stays in for longer than a step.
   */
  advanceToStatus(handle: OrderHandle, status: OrderStatus, stepMs?: number, maxSteps?: number): Promise<OrderState>;
  /** Polls in real time, time skipping locked, until getStatus shows `status` (activities still running). */
  settleAt(handle: OrderHandle, status: OrderStatus, timeoutMs?: number): Promise<OrderState>;
}

/** Registers the file's hooks; the returned harness is usable inside tests. */
export function useHarness(): Harness {
  let env: TestWorkflowEnvironment | undefined;
  const shops = new Map<string, FakeShop>();
  let stopWorkers: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    // The fakes fail on purpose (scenario g alone retries ~90 charges); at the default
    // level every failed attempt is a WARN with a stack trace. Real faults fail a test.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    env = await timeSkippingEnv();
    stopWorkers = runWorkers(await createWorkers(env.nativeConnection, routeByOrder(shops)));
  });

  afterEach(() => {
    for (const shop of shops.values()) shop.dispose();
  });

  afterAll(async () => {
    await stopWorkers?.();
    await env?.teardown();
  });

  const harness: Harness = {
    get env() {
      if (!env) throw new Error('the test environment is not up yet');
      return env;
    },
    async startOrder(shop, input) {
      shops.set(input.orderId, shop);
      shop.clock = () => harness.env.currentTimeMs();
      return harness.env.client.workflow.start<typeof placeOrder>('placeOrder', {
        workflowId: orderWorkflowId(input.orderId),
        taskQueue: TaskQueues.orders,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    },
    async finish(handle, scenario) {
      const result = await handle.result();
      const status = await handle.query(getStatusQuery);
      await recordHistory(handle, scenario);
      return { result, status };
    },
    async advanceUntil(done, what, stepMs = 10_000, maxSteps = 60) {
      for (let i = 0; i < maxSteps; i++) {
        if (done()) return;
        await harness.env.sleep(stepMs);
      }
      throw new Error(`never happened: ${what}`);
    },
    async advanceToStatus(handle, status, stepMs = 30_000, maxSteps = 120) {
      for (let i = 0; i < maxSteps; i++) {
        const state = await handle.query(getStatusQuery);
        if (state.status === status) return state;
        await harness.env.sleep(stepMs);
      }
      throw new Error(`the order never reached ${status}`);
    },
    async settleAt(handle, status, timeoutMs = 10_000) {
      let last: OrderState | undefined;
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
        last = await handle.query(getStatusQuery);
        if (last.status === status) return last;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`timed out waiting for ${status}; the order is ${last?.status}`);
    },
  };
  return harness;
}

/** Polls in real time (time skipping stays locked) until `done` holds. */
export async function waitFor(done: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// ---------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------

let orderSeq = 0;
/** Unique per run and per test, so workflow ids never collide on the shared server. */
export const newOrderId = () => `${Date.now().toString(36)}-${++orderSeq}`;

export const MUG = 'prod-mug';
export const TEE = 'prod-tee';

export const GERMANY = { name: 'Ada', line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' };
export const US = { name: 'Grace', line1: '2 Elm St', city: 'Arlington', postalCode: '22201', country: 'US' };

export function orderFor(items: { productId: string; quantity: number; unitPriceAmount: number }[], extra: Partial<PlaceOrderInput> = {}): PlaceOrderInput {
  const lines = items.map((i) => ({ ...i, sku: i.productId.toUpperCase(), name: i.productId }));
  return {
    orderId: newOrderId(),
    customerId: 'cust-1',
    currency: 'EUR',
    items: lines,
    totalAmount: lines.reduce((sum, l) => sum + l.unitPriceAmount * l.quantity, 0),
    shippingAddress: GERMANY,
    paymentMethod: { token: TestTokens.success },
    // The fake shops model the charge-at-checkout flow, which orders started before per-shipment
    // payments still run; per-shipment orders run on the real activities in tests/integration/per-shipment.test.ts.
    payments: 'charge-at-checkout',
    // These tests assert the notifications the saga sends itself (the fake shop's notifications log,
    // NOTIFIED events), as runs from before the order event feed do; the feed's path, where the kind
    // only rides on the STATUS_CHANGED event, has its own tests (onTheFeed, place-order.test.ts).
    notifications: 'activities',
    // These scenarios were recorded confirming after the stock commit; the onTheFeed runs confirm at the payment.
    confirmAt: 'stock-commit',
    ...extra,
  };
}

/** The input as the API starts it today: customer notifications left to the order event feed, confirmed at the payment. */
export function onTheFeed(input: PlaceOrderInput): PlaceOrderInput {
  const { notifications: _activities, confirmAt: _stockCommit, ...rest } = input;
  return rest;
}

/** 2 mugs at 12.50 and 1 tee at 20.00: 45.00 EUR */
export const standardOrder = (extra: Partial<PlaceOrderInput> = {}) =>
  orderFor(
    [
      { productId: MUG, quantity: 2, unitPriceAmount: 1250 },
      { productId: TEE, quantity: 1, unitPriceAmount: 2000 },
    ],
    extra,
  );
export const initialStock = () => ({ [MUG]: 5, [TEE]: 3 });

export const elapsed = (state: OrderState, from: keyof OrderState['timestamps'], to: keyof OrderState['timestamps']): number =>
  Date.parse(state.timestamps[to]!) - Date.parse(state.timestamps[from]!);
