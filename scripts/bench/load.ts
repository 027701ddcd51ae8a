/**
 * The load: N virtual customers, each placing one order after another over
 * real HTTP (POST /api/v1/orders) for a fixed time. A closed loop: a customer
 * sends the next order only when the last one is answered, so latency and
 * throughput are two sides of the same run (Little's law).
 */
import { randomUUID } from 'node:crypto';

export interface BenchCustomer {
  id: string;
  token: string;
}

export interface Sample {
  orderId: string;
  /** ms since the epoch, this process's clock (the database runs on the same machine) */
  sentAt: number;
  answeredAt: number;
  status: number;
  /** the error code of a 4xx/5xx answer, the order status of a 2xx, 'NETWORK' when no answer came */
  code: string;
}

export interface LoadOptions {
  apiUrl: string;
  customers: BenchCustomer[];
  productIds: string[];
  concurrency: number;
  /** how long the measured window lasts */
  durationMs: number;
  /**
   * the unmeasured ramp: the window opens once every virtual customer has had its
   * first answer (the loop is full) and at least this long after the start
   */
  rampMs?: number;
  /** called when the measured window opens */
  onSteady?: () => void;
  /** called about once a second while the load runs */
  onProgress?: (p: { elapsedMs: number; measuring: boolean; answered: number; confirmed: number; inFlight: number }) => void;
}

const address = { name: 'Bench Customer', line1: '1 Load Street', city: 'Springfield', postalCode: '12345', country: 'US' };

async function placeOrder(apiUrl: string, customer: BenchCustomer, productId: string): Promise<Sample> {
  const orderId = randomUUID();
  const sentAt = Date.now();
  try {
    const res = await fetch(`${apiUrl}/api/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${customer.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ orderId, items: [{ productId, quantity: 1 }], shippingAddress: address, paymentMethod: { token: 'tok_visa' } }),
    });
    const body = (await res.json().catch(() => ({}))) as { status?: string; code?: string };
    return { orderId, sentAt, answeredAt: Date.now(), status: res.status, code: (res.ok ? body.status : body.code) ?? `HTTP_${res.status}` };
  } catch {
    return { orderId, sentAt, answeredAt: Date.now(), status: 0, code: 'NETWORK' };
  }
}

export interface LoadResult {
  samples: Sample[];
  /** the measured window: [measureFrom, deadline] */
  measureFrom: number;
  deadline: number;
}

/** Runs the closed loop; answers every request sent before the deadline (those answered after it count in latency, not in throughput). */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { apiUrl, customers, productIds, concurrency, durationMs, onProgress, rampMs = 0 } = options;
  const samples: Sample[] = [];
  const started = Date.now();
  let measureFrom = Number.POSITIVE_INFINITY;
  let deadline = Number.POSITIVE_INFINITY;
  const answeredOnce = new Set<number>();
  const open = () => {
    measureFrom = Date.now();
    deadline = measureFrom + durationMs;
    options.onSteady?.();
  };
  const rampTimer = setTimeout(() => answeredOnce.size === concurrency && measureFrom === Number.POSITIVE_INFINITY && open(), rampMs);
  let inFlight = 0;
  const progress = setInterval(() => {
    const answered = samples.filter((s) => s.answeredAt <= Date.now()).length;
    onProgress?.({ elapsedMs: Date.now() - started, measuring: Number.isFinite(measureFrom), answered, confirmed: samples.filter((s) => s.code === 'CONFIRMED').length, inFlight });
  }, 1000);
  const user = async (u: number) => {
    for (let i = 0; Date.now() < deadline; i++) {
      // every virtual user has customers of its own, products are picked at random: a shop's traffic, not one hot row
      const customer = customers[(u + i * concurrency) % customers.length];
      const productId = productIds[Math.floor(Math.random() * productIds.length)];
      inFlight += 1;
      samples.push(await placeOrder(apiUrl, customer, productId));
      inFlight -= 1;
      answeredOnce.add(u);
      if (answeredOnce.size === concurrency && measureFrom === Number.POSITIVE_INFINITY && Date.now() >= started + rampMs) open();
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, (_, u) => user(u)));
  } finally {
    clearInterval(progress);
    clearTimeout(rampTimer);
  }
  return { samples, measureFrom, deadline };
}

/** The p-th percentile (0..100) by nearest rank; NaN for no values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
