// Typed, stateful fakes of every bounded context the PlaceOrder workflow talks to,
// one FakeShop per order: stock levels, a payments ledger, the order record and
// its status writes, shipments with tracking numbers, and a notifications log.
// Tests assert on them what a customer or an operator would check.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ReservedItem } from '../../../activities/inventory';
import type { NotifyInput } from '../../../activities/notifications';
import type { RecordOrderStatusInput } from '../../../activities/orders';
import { ErrorCodes } from '../../../domain/errors';
import { canTransition, type OrderStatus } from '../../../domain/order-status';
import { declineForToken } from '../../../domain/payment';
import { chooseCarrier, type NotificationKind, type ShipmentPlan } from '../../../domain/shipping';
import type { ContextActivities } from '../../support/workers';
import type { ShipmentState, TimelineEvent } from '../../../temporal-config/place-order';

type ActivityName = {
  [K in keyof ContextActivities]: keyof ContextActivities[K];
}[keyof ContextActivities];

/** Places where a test can hold an activity until it lets it through. */
export type HoldPoint = 'chargePayment' | 'commitStock' | 'confirmWrite' | 'releaseStock' | 'handToCarrier';
const HOLD_POINTS: readonly HoldPoint[] = ['chargePayment', 'commitStock', 'confirmWrite', 'releaseStock', 'handToCarrier'];
/** Saga steps the workflow abandons (cancels without waiting) when it gives up. */
const STEP_HOLDS: readonly HoldPoint[] = ['chargePayment', 'commitStock'];

export interface StockLevel {
  available: number;
  reserved: number;
  sold: number;
  returned: number;
}

export interface ProductInfo {
  warehouse: string;
  /** per unit */
  weightGrams: number;
}

export interface ShopOptions {
  /** available units per product id */
  stock: Record<string, number>;
  /** where each product is stocked and what it weighs (default: one warehouse, 300 g a unit) */
  products?: Record<string, ProductInfo>;
  /** products deleted from the catalog after checkout: planShipments fails on them, as the real one does */
  deletedProducts?: string[];
  /** activities that wait (heartbeating) until the test opens them, or they are cancelled */
  hold?: HoldPoint[];
  /** releaseStock throws a transient error this many times before it works */
  releaseFailures?: number;
  /** every charge attempt times out at the gateway (a transient error Temporal retries) */
  gatewayTimesOut?: boolean;
  /** refundPayment throws a transient error until `refundsWork()` */
  refundsBroken?: boolean;
  /**
   * The email/SMS provider is down until this test-server time (ms since epoch;
   * Infinity = forever), judged by the shop's clock when an attempt runs.
   */
  notificationsDownUntil?: number;
  /** the order row exists, stamped by another saga (an id reused after Temporal forgot that run): createOrder refuses it */
  placedByAnotherSaga?: boolean;
}

export const DEFAULT_WAREHOUSE = 'WH-BERLIN';
const DEFAULT_PRODUCT: ProductInfo = { warehouse: DEFAULT_WAREHOUSE, weightGrams: 300 };

export interface FakeShipment extends ShipmentPlan {
  items: { productId: string; quantity: number }[];
  status: ShipmentState['status'];
}

export interface NotificationAttempt {
  kind: NotificationKind;
  attempt: number;
  /** test-server time the attempt was scheduled at */
  at: number;
  outcome: 'sent' | 'provider down';
}

export interface NotificationRecord {
  kind: NotificationKind;
  idempotencyKey: string;
  status: 'SENT' | 'FAILED';
  sentAt?: number;
  error?: string;
}

export class Gate {
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
export const transient = (what: string) => new Error(`${what} (simulated)`);

export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}


/** Per-shipment activities: the fake shop models charge-at-checkout orders only (harness.ts). */
const chargeAtCheckoutOnly = (name: string) => (): never => {
  throw ApplicationFailure.create({ message: `${name}: the fake shop models charge-at-checkout orders only`, nonRetryable: true });
};

export class FakeShop {
  readonly stock = new Map<string, StockLevel>();
  reservation?: { items: ReservedItem[]; status: 'HELD' | 'COMMITTED' | 'RELEASED' | 'RETURNED' };
  /** the order row the orders context owns */
  order?: { status: OrderStatus; failureCode?: string; cancelReason?: string };
  readonly statusWrites: RecordOrderStatusInput[] = [];
  readonly charges: { idempotencyKey: string; amount: number; currency: string; paymentId: string }[] = [];
  readonly refunds: { refundKey: string; chargeKey: string; amount: number; currency: string }[] = [];
  /** charge keys refunded before any charge existed: the gateway refuses them later */
  readonly voidedChargeKeys = new Set<string>();
  /** the shipping context's rows, one per warehouse, in planning order */
  readonly shipments: FakeShipment[] = [];
  readonly overdueMarks: string[][] = [];
  /** every send attempt, in order */
  readonly notificationLog: NotificationAttempt[] = [];
  /** the notifications table: one row per idempotency key */
  readonly notifications = new Map<string, NotificationRecord>();
  readonly notificationFailures: (NotifyInput & { error: string })[] = [];
  readonly calls = Object.fromEntries(
    (
      [
        'createOrder',
        'recordOrderStatus',
        'reserveStock',
        'commitStock',
        'releaseStock',
        'restockReturn',
        'chargePayment',
        'refundPayment',
        'planShipments',
        'handToCarrier',
        'cancelShipments',
        'recordDelivery',
        'markOverdue',
        'sendNotification',
        'recordNotificationFailure',
      ] satisfies ActivityName[]
    ).map((n) => [n, 0]),
  ) as Record<ActivityName, number>;
  private readonly gates = new Map<HoldPoint, Gate>();
  private readonly arrivals = new Map<HoldPoint, { seen: Promise<void>; arrive: () => void }>();
  private readonly holding = new Set<Promise<void>>();
  private releaseFailuresLeft: number;
  private refundsBroken: boolean;
  /**
   * The workflow's clock (the test server's, skipped), set by the harness to
   * env.currentTimeMs. Not the activity's info.currentAttemptScheduledTimestampMs:
   * the Java test server stamps a retry with the time the previous attempt
   * failed, one backoff interval before the retry actually runs.
   */
  clock: () => Promise<number> = async () => {
    throw ApplicationFailure.create({ message: 'this FakeShop has no clock', nonRetryable: true });
  };

  constructor(readonly options: ShopOptions) {
    for (const [productId, available] of Object.entries(options.stock)) this.stock.set(productId, { available, reserved: 0, sold: 0, returned: 0 });
    for (const point of options.hold ?? []) this.gates.set(point, new Gate());
    for (const point of HOLD_POINTS) {
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
  /**
   * The statuses the order record went through, in order. A write that repeats
   * the current status (the workflow flushing late timeline events, such as a
   * notification that went out after the last change) is not a change.
   */
  statuses(): OrderStatus[] {
    return this.statusWrites.map((w) => w.status).filter((s, i, all) => i === 0 || all[i - 1] !== s);
  }
  /** The order's whole timeline, across every write, in the order it was written. */
  timeline(): TimelineEvent[] {
    return this.statusWrites.flatMap((w) => w.events);
  }
  eventTypes(): string[] {
    return this.timeline().map((e) => e.type);
  }
  notificationOf(kind: NotificationKind): NotificationRecord | undefined {
    return [...this.notifications.values()].find((n) => n.kind === kind);
  }
  attemptsOf(kind: NotificationKind): NotificationAttempt[] {
    return this.notificationLog.filter((a) => a.kind === kind);
  }
  /** kind → status of every notification row */
  notificationStatuses(): Partial<Record<NotificationKind, NotificationRecord['status']>> {
    return Object.fromEntries([...this.notifications.values()].map((n) => [n.kind, n.status]));
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

  private productInfo(productId: string): ProductInfo {
    return this.options.products?.[productId] ?? DEFAULT_PRODUCT;
  }

  readonly activities: ContextActivities = {
    orders: {
      createOrder: async (input) => {
        this.calls.createOrder += 1;
        if (this.options.placedByAnotherSaga) {
          throw ApplicationFailure.create({ type: ErrorCodes.ORDER_ALREADY_EXISTS, message: `order ${input.orderId} was placed by another saga`, nonRetryable: true });
        }
        this.order ??= { status: 'PENDING' };
      },
      recordOrderStatus: async (input) => {
        this.calls.recordOrderStatus += 1;
        if (input.status === 'CONFIRMED' && this.order?.status !== 'CONFIRMED') await this.pass('confirmWrite');
        if (!this.order) {
          throw ApplicationFailure.create({ type: ErrorCodes.ORDER_NOT_FOUND, message: `order ${input.orderId} does not exist`, nonRetryable: true });
        }
        // the same transition table the real orders context enforces
        if (!canTransition(this.order.status, input.status)) {
          throw ApplicationFailure.create({
            type: ErrorCodes.ILLEGAL_TRANSITION,
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
      recordReturn: chargeAtCheckoutOnly('recordReturn'),
    },
    inventory: {
      releaseLines: chargeAtCheckoutOnly('releaseLines'),
      restockLines: chargeAtCheckoutOnly('restockLines'),
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
          // as the real inventory context: sellable again, counted as returned (sold keeps the history)
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
      authorisePayment: chargeAtCheckoutOnly('authorisePayment'),
      capturePayment: chargeAtCheckoutOnly('capturePayment'),
      voidPayment: chargeAtCheckoutOnly('voidPayment'),
      refundCapture: chargeAtCheckoutOnly('refundCapture'),
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
    shipping: {
      planShipments: async (input) => {
        this.calls.planShipments += 1;
        const byWarehouse = new Map<string, { productId: string; quantity: number; weightGrams: number }[]>();
        for (const line of input.lines) {
          if (this.options.deletedProducts?.includes(line.productId)) {
            throw ApplicationFailure.create({ type: ErrorCodes.PRODUCT_NOT_FOUND, message: `unknown product ${line.productId}`, nonRetryable: true });
          }
          const { warehouse, weightGrams } = this.productInfo(line.productId);
          byWarehouse.set(warehouse, [...(byWarehouse.get(warehouse) ?? []), { ...line, weightGrams: weightGrams * line.quantity }]);
        }
        const plans: ShipmentPlan[] = [];
        for (const [warehouse, items] of [...byWarehouse].sort(([a], [b]) => a.localeCompare(b))) {
          let row = this.shipments.find((s) => s.warehouse === warehouse); // idempotent per (order, warehouse)
          if (!row) {
            const choice = chooseCarrier({
              weightGrams: items.reduce((s, i) => s + i.weightGrams, 0),
              itemCount: items.reduce((s, i) => s + i.quantity, 0),
              country: input.country,
            });
            row = {
              shipmentId: `shp_${this.shipments.length + 1}`,
              warehouse,
              carrier: choice.carrier,
              trackingNumber: `${choice.trackingPrefix}${input.orderId.replace(/[^a-z0-9]/gi, '').toUpperCase()}${this.shipments.length + 1}`,
              estimatedDeliveryDays: choice.estimatedDeliveryDays,
              items: items.map(({ productId, quantity }) => ({ productId, quantity })),
              status: 'CREATED',
            };
            this.shipments.push(row);
          }
          const { shipmentId, carrier, trackingNumber, estimatedDeliveryDays } = row;
          plans.push({ shipmentId, warehouse, carrier, trackingNumber, estimatedDeliveryDays, items: row.items });
        }
        return plans;
      },
      handToCarrier: async () => {
        this.calls.handToCarrier += 1;
        await this.pass('handToCarrier');
        let handedOver = 0;
        for (const s of this.shipments.filter((x) => x.status === 'CREATED')) {
          s.status = 'HANDED_TO_CARRIER';
          handedOver += 1;
        }
        return { handedOver };
      },
      cancelShipments: async () => {
        this.calls.cancelShipments += 1;
        let cancelled = 0;
        for (const s of this.shipments.filter((x) => x.status === 'CREATED')) {
          s.status = 'CANCELLED';
          cancelled += 1;
        }
        return { cancelled };
      },
      recordDelivery: async (input) => {
        this.calls.recordDelivery += 1;
        const s = this.shipments.find((x) => x.trackingNumber === input.trackingNumber);
        if (s && (s.status === 'HANDED_TO_CARRIER' || s.status === 'OVERDUE')) s.status = 'DELIVERED';
      },
      markOverdue: async (input) => {
        this.calls.markOverdue += 1;
        this.overdueMarks.push([...input.trackingNumbers]);
        for (const s of this.shipments) if (input.trackingNumbers.includes(s.trackingNumber) && s.status === 'HANDED_TO_CARRIER') s.status = 'OVERDUE';
      },
    },
    notifications: {
      sendNotification: async (input) => {
        this.calls.sendNotification += 1;
        const { attempt } = Context.current().info;
        const at = await this.clock();
        const row = this.notifications.get(input.idempotencyKey);
        if (row?.status === 'SENT') return { sent: 0 }; // a retried send goes out once
        if (at < (this.options.notificationsDownUntil ?? -Infinity)) {
          this.notificationLog.push({ kind: input.kind, attempt, at, outcome: 'provider down' });
          throw transient('notification provider unavailable');
        }
        this.notificationLog.push({ kind: input.kind, attempt, at, outcome: 'sent' });
        this.notifications.set(input.idempotencyKey, { kind: input.kind, idempotencyKey: input.idempotencyKey, status: 'SENT', sentAt: at });
        return { sent: 2 }; // email and SMS
      },
      recordNotificationFailure: async (input) => {
        this.calls.recordNotificationFailure += 1;
        this.notificationFailures.push(structuredClone(input));
        if (this.notifications.get(input.idempotencyKey)?.status !== 'SENT') {
          this.notifications.set(input.idempotencyKey, { kind: input.kind, idempotencyKey: input.idempotencyKey, status: 'FAILED', error: input.error });
        }
      },
    },
  };
}

/** The workers' activities: each call goes to the shop of the order it is about. */
export function routeByOrder(shops: Map<string, FakeShop>): ContextActivities {
  const shop = (orderId: string): ContextActivities => {
    const found = shops.get(orderId);
    if (!found) throw ApplicationFailure.create({ message: `no fake shop for order ${orderId}`, nonRetryable: true });
    return found.activities;
  };
  return {
    orders: {
      createOrder: (input) => shop(input.orderId).orders.createOrder(input),
      recordOrderStatus: (input) => shop(input.orderId).orders.recordOrderStatus(input),
      recordReturn: (input) => shop(input.orderId).orders.recordReturn(input),
    },
    inventory: {
      reserveStock: (input) => shop(input.orderId).inventory.reserveStock(input),
      commitStock: (input) => shop(input.orderId).inventory.commitStock(input),
      restockReturn: (input) => shop(input.orderId).inventory.restockReturn(input),
      releaseStock: (input) => shop(input.orderId).inventory.releaseStock(input),
      releaseLines: (input) => shop(input.orderId).inventory.releaseLines(input),
      restockLines: (input) => shop(input.orderId).inventory.restockLines(input),
    },
    payments: {
      authorisePayment: (input) => shop(input.orderId).payments.authorisePayment(input),
      capturePayment: (input) => shop(input.orderId).payments.capturePayment(input),
      voidPayment: (input) => shop(input.orderId).payments.voidPayment(input),
      refundCapture: (input) => shop(input.orderId).payments.refundCapture(input),
      chargePayment: (input) => shop(input.orderId).payments.chargePayment(input),
      refundPayment: (input) => shop(input.orderId).payments.refundPayment(input),
    },
    shipping: {
      planShipments: (input) => shop(input.orderId).shipping.planShipments(input),
      handToCarrier: (input) => shop(input.orderId).shipping.handToCarrier(input),
      cancelShipments: (input) => shop(input.orderId).shipping.cancelShipments(input),
      recordDelivery: (input) => shop(input.orderId).shipping.recordDelivery(input),
      markOverdue: (input) => shop(input.orderId).shipping.markOverdue(input),
    },
    notifications: {
      sendNotification: (input) => shop(input.orderId).notifications.sendNotification(input),
      recordNotificationFailure: (input) => shop(input.orderId).notifications.recordNotificationFailure(input),
    },
  };
}
