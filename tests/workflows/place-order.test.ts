// PlaceOrder saga under Temporal's time-skipping test server, with typed fake
// activities that keep state (stock levels, a payments ledger, the order record)
// so each test asserts what a customer or an operator would check.
//
// RECORD_HISTORIES=1 npx vitest run tests/workflows/place-order.test.ts
// rewrites tests/workflows/histories/*.json, which replay.test.ts replays.
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReservedItem } from '../../activities/inventory';
import type { RecordOrderStatusInput } from '../../activities/orders';
import { placeOrderAndWait, type OrderDeps } from '../../api/orders/place-order';
import { ErrorCodes } from '../../domain/errors';
import type { OrderState, PlaceOrderInput } from '../../domain/order';
import { canTransition, type OrderStatus } from '../../domain/order-status';
import { declineForToken, TestTokens } from '../../domain/payment';
import { TaskQueues } from '../../temporal-config/task-queues';
import { orderWorkflowId } from '../../temporal-config/workflow-ids';
import { cancelOrderSignal, getStatusQuery, requestCancelUpdate, retryCompensationsSignal } from '../../workflows/messages';
import type { placeOrder } from '../../workflows/place-order';
import { timeSkippingEnv } from '../support/temporal';
import { createWorkers, runWorkers, type ContextActivities } from '../support/workers';

const RECORD = process.env.RECORD_HISTORIES === '1';
const HISTORIES_DIR = fileURLToPath(new URL('./histories/', import.meta.url));
const MINUTE = 60_000;

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

// ---------------------------------------------------------------------------
// Fakes: one FakeShop per order, holding that order's world.
// ---------------------------------------------------------------------------

type ActivityName = keyof ContextActivities['orders'] | keyof ContextActivities['inventory'] | keyof ContextActivities['payments'];
/** Places where a test can hold an activity until it lets it through. */
type HoldPoint = 'chargePayment' | 'commitStock' | 'confirmWrite' | 'releaseStock';
/** Saga steps the workflow abandons (cancels without waiting) when it gives up. */
const STEP_HOLDS: readonly HoldPoint[] = ['chargePayment', 'commitStock'];

interface StockLevel {
  available: number;
  reserved: number;
  sold: number;
  returned: number;
}

interface ShopOptions {
  /** available units per product id */
  stock: Record<string, number>;
  /** activities that wait (heartbeating) until the test opens them, or they are cancelled */
  hold?: HoldPoint[];
  /** releaseStock throws a transient error this many times before it works */
  releaseFailures?: number;
  /** every charge attempt times out at the gateway (a transient error Temporal retries) */
  gatewayTimesOut?: boolean;
  /** refundPayment throws a transient error until `refundsWork()` */
  refundsBroken?: boolean;
}

class Gate {
  open!: () => void;
  fail!: (err: Error) => void;
  readonly passed = new Promise<void>((resolve, reject) => {
    this.open = resolve;
    this.fail = reject;
  });
  constructor() {
    this.passed.catch(() => undefined);
  }
}

/** Holds the running activity at `gate`; heartbeats so a cancel or timeout reaches it. */
async function holdAt(gate: Gate): Promise<void> {
  const ctx = Context.current();
  ctx.heartbeat();
  const beat = setInterval(() => ctx.heartbeat(), 200);
  try {
    await Promise.race([gate.passed, ctx.cancelled]);
  } finally {
    clearInterval(beat);
  }
}

/** What a flaky dependency throws: a plain Error, which Temporal retries. */
const transient = (what: string) => new Error(`${what} (simulated)`);

class FakeShop {
  readonly stock = new Map<string, StockLevel>();
  reservation?: { items: ReservedItem[]; status: 'HELD' | 'COMMITTED' | 'RELEASED' | 'RETURNED' };
  /** the order row the orders context owns */
  order?: { status: OrderStatus; failureCode?: string; cancelReason?: string };
  readonly statusWrites: RecordOrderStatusInput[] = [];
  readonly charges: { idempotencyKey: string; amount: number; currency: string; paymentId: string }[] = [];
  readonly refunds: { refundKey: string; chargeKey: string; amount: number; currency: string }[] = [];
  /** charge keys refunded before any charge existed: the gateway refuses them later */
  readonly voidedChargeKeys = new Set<string>();
  readonly calls: Record<ActivityName, number> = {
    createOrder: 0,
    recordOrderStatus: 0,
    reserveStock: 0,
    commitStock: 0,
    releaseStock: 0,
    restockReturn: 0,
    chargePayment: 0,
    refundPayment: 0,
  };
  private readonly gates = new Map<HoldPoint, Gate>();
  private readonly arrivals = new Map<HoldPoint, { seen: Promise<void>; arrive: () => void }>();
  private readonly holding = new Set<Promise<void>>();
  private releaseFailuresLeft: number;
  private refundsBroken: boolean;

  constructor(readonly options: ShopOptions) {
    for (const [productId, available] of Object.entries(options.stock)) this.stock.set(productId, { available, reserved: 0, sold: 0, returned: 0 });
    for (const point of options.hold ?? []) this.gates.set(point, new Gate());
    for (const point of ['chargePayment', 'commitStock', 'confirmWrite', 'releaseStock'] as const) {
      let arrive!: () => void;
      const seen = new Promise<void>((resolve) => (arrive = resolve));
      this.arrivals.set(point, { seen, arrive });
    }
    this.releaseFailuresLeft = options.releaseFailures ?? 0;
    this.refundsBroken = options.refundsBroken ?? false;
  }

  /** Resolves once the saga is at `point` (the activity is running). */
  reached(point: HoldPoint): Promise<void> {
    return within(this.arrivals.get(point)!.seen, 20_000, `the saga to reach ${point}`);
  }
  open(point: HoldPoint): void {
    this.gates.get(point)?.open();
  }
  refundsWork(): void {
    this.refundsBroken = false;
  }
  /** Ends any held activity still running (the workflow has moved on without it). */
  dispose(): void {
    for (const gate of this.gates.values()) gate.fail(new Error('test finished'));
  }

  stockOf(productId: string): StockLevel {
    return { ...this.stock.get(productId)! };
  }
  statuses(): OrderStatus[] {
    return this.statusWrites.map((w) => w.status);
  }

  private async pass(point: HoldPoint): Promise<void> {
    this.arrivals.get(point)!.arrive();
    const gate = this.gates.get(point);
    if (!gate) return;
    const held = holdAt(gate);
    this.holding.add(held);
    try {
      await held;
    } finally {
      this.holding.delete(held);
    }
  }

  /**
   * Compensation starts only once the saga has given up on its steps, so a
   * step still held here is ended (it fails, taking no effect) before any
   * compensation runs. Test-server constraint, not business logic: the Java
   * test server stops skipping time while an activity is outstanding and never
   * resumes if the workflow closes with one still pending (the workflow's
   * TRY_CANCEL does not wait for it), which would slow every later test to
   * real time.
   */
  private async endAbandonedSteps(): Promise<void> {
    for (const point of STEP_HOLDS) this.gates.get(point)?.fail(new Error(`${point} abandoned by the saga`));
    await Promise.allSettled([...this.holding]);
  }

  readonly activities: ContextActivities = {
    orders: {
      createOrder: async () => {
        this.calls.createOrder += 1;
        this.order ??= { status: 'PENDING' };
      },
      recordOrderStatus: async (input) => {
        this.calls.recordOrderStatus += 1;
        if (input.status === 'CONFIRMED') await this.pass('confirmWrite');
        if (!this.order) {
          throw ApplicationFailure.create({ type: 'ORDER_NOT_FOUND', message: `order ${input.orderId} does not exist`, nonRetryable: true });
        }
        // the same transition table the real orders context enforces
        if (!canTransition(this.order.status, input.status)) {
          throw ApplicationFailure.create({
            type: 'ILLEGAL_TRANSITION',
            message: `order ${input.orderId} cannot go from ${this.order.status} to ${input.status}`,
            nonRetryable: true,
          });
        }
        this.statusWrites.push(structuredClone(input));
        this.order = {
          status: input.status,
          failureCode: input.failure?.code ?? this.order.failureCode,
          cancelReason: input.cancelReason ?? this.order.cancelReason,
        };
      },
    },
    inventory: {
      reserveStock: async (input) => {
        this.calls.reserveStock += 1;
        if (this.reservation) return { items: this.reservation.items };
        for (const { productId, quantity } of input.items) {
          const available = this.stock.get(productId)?.available ?? 0;
          if (available < quantity) {
            throw ApplicationFailure.create({
              type: ErrorCodes.INVENTORY_UNAVAILABLE,
              message: `not enough stock for ${productId}: requested ${quantity}, available ${available}`,
              nonRetryable: true,
              details: [{ productId, requested: quantity, available }],
            });
          }
        }
        for (const { productId, quantity } of input.items) {
          const level = this.stock.get(productId)!;
          level.available -= quantity;
          level.reserved += quantity;
        }
        this.reservation = { items: input.items.map(({ productId, quantity }) => ({ productId, quantity })), status: 'HELD' };
        return { items: this.reservation.items };
      },
      commitStock: async () => {
        this.calls.commitStock += 1;
        await this.pass('commitStock');
        if (this.reservation?.status !== 'HELD') return { committed: 0 };
        let committed = 0;
        for (const { productId, quantity } of this.reservation.items) {
          const level = this.stock.get(productId)!;
          level.reserved -= quantity;
          level.sold += quantity;
          committed += quantity;
        }
        this.reservation.status = 'COMMITTED';
        return { committed };
      },
      restockReturn: async () => {
        this.calls.restockReturn += 1;
        if (this.reservation?.status !== 'COMMITTED') return { restocked: 0 };
        let restocked = 0;
        for (const { productId, quantity } of this.reservation.items) {
          const level = this.stock.get(productId)!;
          level.available += quantity;
          level.returned += quantity;
          restocked += quantity;
        }
        this.reservation.status = 'RETURNED';
        return { restocked };
      },
      releaseStock: async () => {
        this.calls.releaseStock += 1;
        await this.endAbandonedSteps();
        await this.pass('releaseStock');
        if (this.releaseFailuresLeft > 0) {
          this.releaseFailuresLeft -= 1;
          throw transient('inventory database: connection reset');
        }
        const held = this.reservation;
        if (!held || held.status === 'RELEASED' || held.status === 'RETURNED') return { released: 0 };
        let released = 0;
        for (const { productId, quantity } of held.items) {
          const level = this.stock.get(productId)!;
          if (held.status === 'HELD') level.reserved -= quantity;
          else level.sold -= quantity;
          level.available += quantity;
          released += quantity;
        }
        held.status = 'RELEASED';
        return { released };
      },
    },
    payments: {
      chargePayment: async (input) => {
        this.calls.chargePayment += 1;
        await this.pass('chargePayment');
        if (this.options.gatewayTimesOut) throw transient('payment gateway: no answer within 30 s');
        const existing = this.charges.find((c) => c.idempotencyKey === input.idempotencyKey);
        if (existing) return { paymentId: existing.paymentId, providerRef: `ch_${existing.paymentId}` };
        if (this.voidedChargeKeys.has(input.idempotencyKey)) {
          throw ApplicationFailure.create({ type: ErrorCodes.PAYMENT_VOIDED, message: 'charge key was voided by a refund', nonRetryable: true });
        }
        const reason = declineForToken[input.token];
        if (reason) {
          throw ApplicationFailure.create({
            type: ErrorCodes.PAYMENT_DECLINED,
            message: `payment declined: ${reason}`,
            nonRetryable: true,
            details: [{ reason }],
          });
        }
        const paymentId = `pay_${this.charges.length + 1}`;
        this.charges.push({ idempotencyKey: input.idempotencyKey, amount: input.amount, currency: input.currency, paymentId });
        return { paymentId, providerRef: `ch_${paymentId}` };
      },
      refundPayment: async (input) => {
        this.calls.refundPayment += 1;
        await this.endAbandonedSteps();
        if (this.refundsBroken) throw transient('payment gateway: connection reset');
        const done = this.refunds.find((r) => r.refundKey === input.refundKey);
        if (done) return { refunded: true, amount: done.amount };
        const charge = this.charges.find((c) => c.idempotencyKey === input.chargeKey);
        if (!charge) {
          this.voidedChargeKeys.add(input.chargeKey);
          return { refunded: false, amount: 0 };
        }
        this.refunds.push({ refundKey: input.refundKey, chargeKey: input.chargeKey, amount: charge.amount, currency: charge.currency });
        return { refunded: true, amount: charge.amount };
      },
    },
  };
}

/** The workers' activities: each call goes to the shop of the order it is about. */
function routeByOrder(shops: Map<string, FakeShop>): ContextActivities {
  const shop = (orderId: string): ContextActivities => {
    const found = shops.get(orderId);
    if (!found) throw ApplicationFailure.create({ message: `no fake shop for order ${orderId}`, nonRetryable: true });
    return found.activities;
  };
  return {
    orders: {
      createOrder: (input) => shop(input.orderId).orders.createOrder(input),
      recordOrderStatus: (input) => shop(input.orderId).orders.recordOrderStatus(input),
    },
    inventory: {
      reserveStock: (input) => shop(input.orderId).inventory.reserveStock(input),
      commitStock: (input) => shop(input.orderId).inventory.commitStock(input),
      restockReturn: (input) => shop(input.orderId).inventory.restockReturn(input),
      releaseStock: (input) => shop(input.orderId).inventory.releaseStock(input),
    },
    payments: {
      chargePayment: (input) => shop(input.orderId).payments.chargePayment(input),
      refundPayment: (input) => shop(input.orderId).payments.refundPayment(input),
    },
  };
}

// ---------------------------------------------------------------------------
// Harness: one environment and one set of workers for the whole file.
// ---------------------------------------------------------------------------

let env: TestWorkflowEnvironment;
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

let orderSeq = 0;
/** Unique per run and per test, so workflow ids never collide on the shared server. */
const newOrderId = () => `${Date.now().toString(36)}-${++orderSeq}`;

const MUG = 'prod-mug';
const TEE = 'prod-tee';

function orderFor(items: { productId: string; quantity: number; unitPriceAmount: number }[], extra: Partial<PlaceOrderInput> = {}): PlaceOrderInput {
  const lines = items.map((i) => ({ ...i, sku: i.productId.toUpperCase(), name: i.productId }));
  return {
    orderId: newOrderId(),
    customerId: 'cust-1',
    currency: 'EUR',
    items: lines,
    totalAmount: lines.reduce((sum, l) => sum + l.unitPriceAmount * l.quantity, 0),
    shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
    paymentMethod: { token: TestTokens.success },
    ...extra,
  };
}
/** 2 mugs at 12.50 and 1 tee at 20.00: 45.00 EUR */
const standardOrder = (extra: Partial<PlaceOrderInput> = {}) =>
  orderFor(
    [
      { productId: MUG, quantity: 2, unitPriceAmount: 1250 },
      { productId: TEE, quantity: 1, unitPriceAmount: 2000 },
    ],
    extra,
  );
const initialStock = () => ({ [MUG]: 5, [TEE]: 3 });

/** Starts the saga the way a duplicate can never slip in: FAIL while running, REJECT_DUPLICATE after. */
async function startOrder(shop: FakeShop, input: PlaceOrderInput): Promise<WorkflowHandle<typeof placeOrder>> {
  shops.set(input.orderId, shop);
  return env.client.workflow.start<typeof placeOrder>('placeOrder', {
    workflowId: orderWorkflowId(input.orderId),
    taskQueue: TaskQueues.orders,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  });
}

/** Awaits the result (time skips meanwhile), reads getStatus, and records the history if asked. */
async function finish(handle: WorkflowHandle<typeof placeOrder>, scenario: string): Promise<{ result: OrderState; status: OrderState }> {
  const result = await handle.result();
  const status = await handle.query(getStatusQuery);
  if (RECORD) {
    await mkdir(HISTORIES_DIR, { recursive: true });
    const history = historyToJson(await handle.fetchHistory());
    await writeFile(path.join(HISTORIES_DIR, `${scenario}.json`), `${JSON.stringify(history, null, 2)}\n`);
  }
  return { result, status };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls in real time (time skipping stays locked) until `done` holds. */
async function waitFor(done: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Lets (skipped) workflow time pass until `done` holds; for waits with no result() to await. */
async function advanceUntil(done: () => boolean, what: string, stepMs = 10_000, maxSteps = 60): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if (done()) return;
    await env.sleep(stepMs);
  }
  throw new Error(`never happened: ${what}`);
}

const eventTypes = (write: RecordOrderStatusInput | undefined) => write?.events.map((e) => e.type);

// ---------------------------------------------------------------------------

describe('placeOrder saga', () => {
  it('a. happy path: confirms, charges once, sells the stock', async () => {
    const shop = new FakeShop({ stock: initialStock() });
    const input = standardOrder();
    const { result, status } = await finish(await startOrder(shop, input), 'a-happy-path');

    expect(result.status).toBe('CONFIRMED');
    expect(status).toEqual(result);
    expect(result.completedSteps).toEqual(['ORDER_CREATED', 'STOCK_RESERVED', 'PAYMENT_CHARGED', 'STOCK_COMMITTED', 'ORDER_CONFIRMED']);
    expect(result.compensations).toEqual([]);
    expect(result.failure).toBeUndefined();
    expect(result.cancellation).toBeUndefined();

    expect(shop.charges).toEqual([expect.objectContaining({ amount: 4500, currency: 'EUR', idempotencyKey: `${orderWorkflowId(input.orderId)}:charge` })]);
    expect(shop.refunds).toEqual([]);
    expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 0, sold: 2, returned: 0 });
    expect(shop.stockOf(TEE)).toEqual({ available: 2, reserved: 0, sold: 1, returned: 0 });

    expect(shop.calls.createOrder).toBe(1);
    expect(shop.statuses()).toEqual(['CONFIRMED']);
    expect(eventTypes(shop.statusWrites[0])).toEqual([
      'ORDER_CREATED',
      'STOCK_RESERVED',
      'PAYMENT_CHARGED',
      'STOCK_COMMITTED',
      'ORDER_CONFIRMED',
      'STATUS_CHANGED',
    ]);
    expect(shop.order?.status).toBe('CONFIRMED');
  });

  it('b. out of stock: fails with INVENTORY_UNAVAILABLE and its details, never charges', async () => {
    const shop = new FakeShop({ stock: { [MUG]: 1 } });
    const input = orderFor([{ productId: MUG, quantity: 3, unitPriceAmount: 1250 }]);
    const { result, status } = await finish(await startOrder(shop, input), 'b-out-of-stock');

    expect(result.status).toBe('FAILED');
    expect(status).toEqual(result);
    expect(result.failure).toEqual({
      code: ErrorCodes.INVENTORY_UNAVAILABLE,
      message: 'not enough stock for prod-mug: requested 3, available 1',
      details: { productId: MUG, requested: 3, available: 1 },
    });
    expect(result.completedSteps).toEqual(['ORDER_CREATED']);
    expect(result.compensations).toEqual([{ name: 'releaseStock', outcome: 'done' }]);

    expect(shop.calls.reserveStock).toBe(1); // non-retryable: asked once
    expect(shop.calls.chargePayment).toBe(0);
    expect(shop.charges).toEqual([]);
    expect(shop.stockOf(MUG)).toEqual({ available: 1, reserved: 0, sold: 0, returned: 0 });

    expect(shop.statuses()).toEqual(['FAILED']);
    expect(shop.statusWrites[0]?.failure?.code).toBe(ErrorCodes.INVENTORY_UNAVAILABLE);
    expect(shop.order).toMatchObject({ status: 'FAILED', failureCode: ErrorCodes.INVENTORY_UNAVAILABLE });
  });

  it('c. payment declined: fails with PAYMENT_DECLINED, releases the stock, moves no money', async () => {
    const shop = new FakeShop({ stock: initialStock() });
    const input = standardOrder({ paymentMethod: { token: TestTokens.insufficientFunds } });
    const { result, status } = await finish(await startOrder(shop, input), 'c-payment-declined');

    expect(result.status).toBe('FAILED');
    expect(status).toEqual(result);
    expect(result.failure).toEqual({
      code: ErrorCodes.PAYMENT_DECLINED,
      message: 'payment declined: insufficient_funds',
      details: { reason: 'insufficient_funds' },
    });
    expect(result.completedSteps).toEqual(['ORDER_CREATED', 'STOCK_RESERVED']);
    // reverse order; the refund finds no charge and only voids the key
    expect(result.compensations).toEqual([
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);

    expect(shop.calls.chargePayment).toBe(1); // a decline is not retried
    expect(shop.charges).toEqual([]);
    expect(shop.refunds).toEqual([]);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.stockOf(TEE)).toEqual({ available: 3, reserved: 0, sold: 0, returned: 0 });
    expect(shop.reservation?.status).toBe('RELEASED');

    expect(shop.statuses()).toEqual(['FAILED']);
    expect(eventTypes(shop.statusWrites[0])).toEqual([
      'ORDER_CREATED',
      'STOCK_RESERVED',
      'SAGA_FAILED',
      'COMPENSATED',
      'COMPENSATED',
      'STATUS_CHANGED',
    ]);
  });

  it('d. cancel while the charge is pending: cancelled, nothing charged, stock restored', async () => {
    const shop = new FakeShop({ stock: initialStock(), hold: ['chargePayment'] });
    const handle = await startOrder(shop, standardOrder());
    await shop.reached('chargePayment');

    const before = await handle.query(getStatusQuery);
    expect(before.status).toBe('PENDING');
    expect(before.completedSteps).toEqual(['ORDER_CREATED', 'STOCK_RESERVED']);
    expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 2, sold: 0, returned: 0 });

    await handle.signal(cancelOrderSignal, 'customer changed their mind');
    const { result, status } = await finish(handle, 'd-cancel-before-charge');

    expect(result.status).toBe('CANCELLED');
    expect(status).toEqual(result);
    expect(result.cancellation).toEqual({ requested: true, reason: 'customer changed their mind' });
    expect(result.failure).toEqual({ code: ErrorCodes.ORDER_CANCELLED, message: 'customer changed their mind', details: undefined });
    expect(result.completedSteps).toEqual(['ORDER_CREATED', 'STOCK_RESERVED']);
    expect(result.compensations).toEqual([
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);

    expect(shop.charges).toEqual([]);
    expect(shop.refunds).toEqual([]);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.stockOf(TEE)).toEqual({ available: 3, reserved: 0, sold: 0, returned: 0 });

    expect(shop.statuses()).toEqual(['CANCELLED']);
    expect(shop.statusWrites[0]?.cancelReason).toBe('customer changed their mind');
    expect(shop.order).toMatchObject({ status: 'CANCELLED', cancelReason: 'customer changed their mind' });
  });

  it('e. cancel after the charge, before confirmation: refunds, then releases', async () => {
    const shop = new FakeShop({ stock: initialStock(), hold: ['commitStock'] });
    const handle = await startOrder(shop, standardOrder());
    await shop.reached('commitStock');
    expect(shop.charges).toHaveLength(1);

    await handle.signal(cancelOrderSignal, 'found it cheaper');
    const { result, status } = await finish(handle, 'e-cancel-after-charge');

    expect(result.status).toBe('CANCELLED');
    expect(status).toEqual(result);
    expect(result.cancellation).toEqual({ requested: true, reason: 'found it cheaper' });
    expect(result.failure?.code).toBe(ErrorCodes.ORDER_CANCELLED);
    expect(result.completedSteps).toEqual(['ORDER_CREATED', 'STOCK_RESERVED', 'PAYMENT_CHARGED']);
    expect(result.compensations).toEqual([
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);

    expect(shop.charges).toHaveLength(1);
    expect(shop.refunds).toEqual([expect.objectContaining({ amount: 4500, currency: 'EUR', chargeKey: shop.charges[0]!.idempotencyKey })]);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.stockOf(TEE)).toEqual({ available: 3, reserved: 0, sold: 0, returned: 0 });

    expect(shop.statuses()).toEqual(['CANCELLED']);
    const compensated = shop.statusWrites[0]!.events.filter((e) => e.type === 'COMPENSATED').map((e) => e.detail?.compensation);
    expect(compensated).toEqual(['refundPayment', 'releaseStock']);
  });

  describe('f. cancel after the point of no return', () => {
    it('is refused once the saga has completed: the workflow is closed', async () => {
      const shop = new FakeShop({ stock: initialStock() });
      const handle = await startOrder(shop, standardOrder());
      const { result } = await finish(handle, 'f-cancel-after-completion');
      expect(result.status).toBe('CONFIRMED');

      // What api/orders.ts maps to 409 ORDER_NOT_CANCELLABLE. (The Java test server
      // words it "update <id> not found"; a real server "workflow execution already completed".)
      const update = await handle.executeUpdate(requestCancelUpdate, { args: ['too late'] }).catch((e: unknown) => e);
      expect(update).toBeInstanceOf(WorkflowNotFoundError);
      const signal = await handle.signal(cancelOrderSignal, 'too late').catch((e: unknown) => e);
      expect(signal).toBeInstanceOf(WorkflowNotFoundError);

      const status = await handle.query(getStatusQuery);
      expect(status).toEqual(result);
      expect(status.cancellation).toBeUndefined();
      expect(shop.charges).toHaveLength(1);
      expect(shop.refunds).toEqual([]);
      expect(shop.statuses()).toEqual(['CONFIRMED']);
      expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 0, sold: 2, returned: 0 });
    });

    it('is refused by the update validator while the confirmation is being written', async () => {
      const shop = new FakeShop({ stock: initialStock(), hold: ['confirmWrite'] });
      const handle = await startOrder(shop, standardOrder());
      await shop.reached('confirmWrite');
      const confirming = await handle.query(getStatusQuery);
      expect(confirming.status).toBe('PENDING'); // the database is written first, then the workflow shows it
      expect(confirming.completedSteps.at(-1)).toBe('ORDER_CONFIRMED');

      // WorkflowUpdateFailedError → ApplicationFailure: the validator said no, nothing ran
      const refused = await handle.executeUpdate(requestCancelUpdate, { args: ['too late'] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      const cause = (refused as WorkflowUpdateFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause).toMatchObject({ type: ErrorCodes.ORDER_NOT_CANCELLABLE, message: 'order is CONFIRMED; it can no longer be cancelled' });

      // the fire-and-forget signal cannot be refused to the caller: the refusal is recorded instead
      await handle.signal(cancelOrderSignal, 'too late');
      const afterSignal = await handle.query(getStatusQuery);
      expect(afterSignal.cancellation).toEqual({ requested: true, reason: 'too late', refused: 'order is CONFIRMED; it can no longer be cancelled' });

      shop.open('confirmWrite');
      const { result, status } = await finish(handle, 'f-cancel-refused-while-confirming');
      expect(result.status).toBe('CONFIRMED');
      expect(status).toEqual(result);
      expect(result.compensations).toEqual([]);
      expect(result.failure).toBeUndefined();
      expect(shop.charges).toHaveLength(1);
      expect(shop.refunds).toEqual([]);
      expect(shop.statuses()).toEqual(['CONFIRMED']);
      expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 0, sold: 2, returned: 0 });
    });

    it('(and before it) the validator also refuses a cancel for an order that is already failing', async () => {
      const shop = new FakeShop({ stock: initialStock(), hold: ['releaseStock'] });
      const handle = await startOrder(shop, standardOrder({ paymentMethod: { token: TestTokens.declined } }));
      await shop.reached('releaseStock');

      const compensating = await handle.query(getStatusQuery);
      expect(compensating).toMatchObject({ status: 'PENDING', failure: { code: ErrorCodes.PAYMENT_DECLINED } });
      const refused = await handle.executeUpdate(requestCancelUpdate, { args: ['never mind'] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({
        type: ErrorCodes.ORDER_NOT_CANCELLABLE,
        message: `order is already failing (${ErrorCodes.PAYMENT_DECLINED})`,
      });

      shop.open('releaseStock');
      const { result } = await finish(handle, 'f-cancel-refused-while-failing');
      expect(result.status).toBe('FAILED');
      expect(result.failure?.code).toBe(ErrorCodes.PAYMENT_DECLINED);
      expect(result.cancellation).toBeUndefined(); // a refused update leaves no trace in the workflow
      expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
      expect(shop.statuses()).toEqual(['FAILED']);
    });
  });

  // The Java test server skips time only while no activity is outstanding, so a
  // charge that hangs for 15 real minutes would take 15 real minutes here. The
  // slow gateway is therefore one that times out on every attempt: Temporal
  // keeps retrying (backoff up to 10 s, skipped) until the reservation lapses.
  it('g. reservation expires while the gateway never answers: fails with RESERVATION_EXPIRED in seconds of wall time', async () => {
    const shop = new FakeShop({ stock: initialStock(), gatewayTimesOut: true });
    const input = standardOrder({ reservationTtlMs: 15 * MINUTE });
    const wallStart = Date.now();
    const clockStart = await env.currentTimeMs();
    const { result, status } = await finish(await startOrder(shop, input), 'g-reservation-expired');
    const wallMs = Date.now() - wallStart;
    const workflowMs = (await env.currentTimeMs()) - clockStart;

    expect(result.status).toBe('FAILED');
    expect(status).toEqual(result);
    const placed = Date.parse(result.timestamps.placed!);
    // the hold is taken right after the order is created and lapses 15 minutes later
    const timeline = shop.statusWrites[0]!.events;
    const created = timeline.find((e) => e.type === 'ORDER_CREATED')!;
    const reserved = timeline.find((e) => e.type === 'STOCK_RESERVED')!;
    expect(Date.parse(reserved.detail!.expiresAt as string) - Date.parse(created.occurredAt)).toBe(15 * MINUTE);
    expect(result.failure).toEqual({
      code: ErrorCodes.RESERVATION_EXPIRED,
      message: 'stock reservation expired before the payment succeeded',
      details: { expiresAt: reserved.detail!.expiresAt },
    });
    expect(result.completedSteps).toEqual(['ORDER_CREATED', 'STOCK_RESERVED']);
    expect(result.compensations).toEqual([
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);
    expect(shop.calls.chargePayment).toBeGreaterThan(50); // retried all along, ~every 10 s of workflow time
    expect(shop.charges).toEqual([]);
    expect(shop.refunds).toEqual([]);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.stockOf(TEE)).toEqual({ available: 3, reserved: 0, sold: 0, returned: 0 });
    expect(shop.statuses()).toEqual(['FAILED']);

    expect(Date.parse(result.timestamps.FAILED!) - placed).toBeGreaterThanOrEqual(15 * MINUTE);
    expect(workflowMs).toBeGreaterThanOrEqual(15 * MINUTE);
    expect(wallMs).toBeLessThan(30_000);
  });

  it('h. a compensation that fails transiently is retried until done', async () => {
    const shop = new FakeShop({ stock: initialStock(), releaseFailures: 2 });
    const input = standardOrder({ paymentMethod: { token: TestTokens.declined } });
    const { result, status } = await finish(await startOrder(shop, input), 'h-compensation-retried');

    expect(result.status).toBe('FAILED');
    expect(status).toEqual(result);
    expect(result.failure?.code).toBe(ErrorCodes.PAYMENT_DECLINED);
    expect(result.compensations).toEqual([
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);
    expect(shop.calls.releaseStock).toBe(3);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.stockOf(TEE)).toEqual({ available: 3, reserved: 0, sold: 0, returned: 0 });
    expect(shop.statuses()).toEqual(['FAILED']);
  });

  it('i. a compensation that keeps failing parks the order in NEEDS_ATTENTION until an operator retries', async () => {
    const shop = new FakeShop({ stock: initialStock(), hold: ['commitStock'], refundsBroken: true });
    const handle = await startOrder(shop, standardOrder());
    await shop.reached('commitStock');
    await handle.signal(cancelOrderSignal, 'customer request');
    // 8 refund attempts with backoff 1s..30s: about 91 s of workflow time
    await advanceUntil(() => shop.order?.status === 'NEEDS_ATTENTION', 'the order to need attention');

    const parked = await handle.query(getStatusQuery);
    expect(parked.status).toBe('NEEDS_ATTENTION');
    expect(parked.failure?.code).toBe(ErrorCodes.ORDER_CANCELLED); // getStatus keeps the original cause
    expect(parked.compensations).toEqual([
      { name: 'refundPayment', outcome: 'failed', error: 'payment gateway: connection reset (simulated)' },
      { name: 'releaseStock', outcome: 'done' },
    ]);
    expect(shop.calls.refundPayment).toBe(8);
    const parkedWrite = shop.statusWrites.at(-1)!;
    expect(parkedWrite.status).toBe('NEEDS_ATTENTION');
    expect(parkedWrite.failure).toEqual({
      code: ErrorCodes.COMPENSATION_FAILED,
      message: 'compensation failed: refundPayment',
      details: { original: { code: ErrorCodes.ORDER_CANCELLED, message: 'customer request' } },
    });
    expect(shop.order).toMatchObject({ status: 'NEEDS_ATTENTION', failureCode: ErrorCodes.COMPENSATION_FAILED });
    expect(shop.charges).toHaveLength(1);
    expect(shop.refunds).toEqual([]); // the customer's money is still held: that is why it needs attention
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });

    shop.refundsWork();
    await handle.signal(retryCompensationsSignal);
    const { result, status } = await finish(handle, 'i-compensation-needs-attention');

    expect(result.status).toBe('CANCELLED');
    expect(status).toEqual(result);
    expect(result.compensations).toEqual([
      { name: 'refundPayment', outcome: 'failed', error: 'payment gateway: connection reset (simulated)' },
      { name: 'releaseStock', outcome: 'done' },
      { name: 'refundPayment', outcome: 'done' },
    ]);
    expect(shop.calls.refundPayment).toBe(9);
    expect(shop.calls.releaseStock).toBe(1); // only what failed is retried
    expect(shop.refunds).toEqual([expect.objectContaining({ amount: 4500 })]);
    expect(shop.statuses()).toEqual(['NEEDS_ATTENTION', 'CANCELLED']);
    expect(shop.order).toMatchObject({ status: 'CANCELLED', failureCode: ErrorCodes.ORDER_CANCELLED, cancelReason: 'customer request' });
  });

  it('j. one order id, one saga: duplicates are rejected or joined, never started again', async () => {
    const shop = new FakeShop({ stock: initialStock(), hold: ['chargePayment'] });
    const input = standardOrder();
    const workflowId = orderWorkflowId(input.orderId);
    const first = await startOrder(shop, input);
    const { runId } = await first.describe();
    await shop.reached('chargePayment');

    // while running: a plain second start is refused
    const whileRunning = await startOrder(shop, input).catch((e: unknown) => e);
    expect(whileRunning).toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    expect(whileRunning).toMatchObject({ workflowId });

    // while running: the API's update-with-start (USE_EXISTING) joins the running saga
    // instead of starting one, and answers with that saga's outcome
    const api: OrderDeps = {
      temporal: env.client,
      outcomeWaitMs: 20_000,
      reservationTtlMs: 15 * MINUTE,
      db: undefined as unknown as OrderDeps['db'], // placeOrderAndWait never touches the database
    };
    const joined = placeOrderAndWait(api, input);
    await waitFor(async () => (await first.fetchHistory()).events!.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes), 'the API call to join the running saga');
    shop.open('chargePayment');
    expect(await joined).toMatchObject({ orderId: input.orderId, status: 'CONFIRMED' });
    const { result } = await finish(first, 'j-duplicate-start');
    expect(result.status).toBe('CONFIRMED');

    // after completion: REJECT_DUPLICATE refuses a new run; the API reads the old outcome back
    const afterCompletion = await startOrder(shop, input).catch((e: unknown) => e);
    expect(afterCompletion).toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    const readBack = await placeOrderAndWait(api, input);
    expect(readBack).toEqual(result);

    expect((await env.client.workflow.getHandle(workflowId).describe()).runId).toBe(runId);
    expect(shop.calls.createOrder).toBe(1);
    expect(shop.calls.reserveStock).toBe(1);
    expect(shop.charges).toHaveLength(1);
    expect(shop.statuses()).toEqual(['CONFIRMED']);
    expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 0, sold: 2, returned: 0 });
  });
});
