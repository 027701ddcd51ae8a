import { randomUUID } from 'node:crypto';
import type { RouteHandler, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ErrorCodes } from '../../domain/errors';
import type { Logger } from '../../platform/logger';
import { ApiError, httpStatus, type ErrorBody } from '../errors';
import { priceLines, sagaInput, type OrderDeps } from '../orders';
import type { AppEnv } from '../types';
import type * as routes from './checkout.routes';
import { createIdempotencyStore, hashBody, type Claim, type StoredAnswer } from './idempotency';
import { type OrderState, type PlaceOrderInput } from '../../temporal-config/place-order';

type CheckoutBody = z.infer<typeof routes.CheckoutRequestSchema>;

/** The cart, priced now, becomes the order's lines. */
async function snapshotCart(deps: OrderDeps, customerId: string, body: CheckoutBody): Promise<PlaceOrderInput> {
  const lines = await deps.db.cartItem.findMany({ where: { customerId }, orderBy: [{ addedAt: 'asc' }, { productId: 'asc' }] });
  if (lines.length === 0) throw new ApiError(ErrorCodes.CART_EMPTY, 'the cart is empty; add items first');
  const priced = await priceLines(deps.db, lines, ErrorCodes.CART_CURRENCY_MISMATCH);
  return sagaInput(deps, { orderId: randomUUID(), customerId, ...priced, shippingAddress: body.shippingAddress, paymentMethod: body.paymentMethod });
}

const outcomeBody = (input: PlaceOrderInput) => ({ orderId: input.orderId, total: { amount: input.totalAmount, currency: input.currency } });
const isUndecided = (state: OrderState | 'pending') => state === 'pending' || (state.status === 'PENDING' && !state.failure);

function answerFor(input: PlaceOrderInput, state: OrderState, requestId: string): StoredAnswer {
  if (state.failure) {
    const body: ErrorBody = { code: state.failure.code, message: state.failure.message, details: { orderId: input.orderId, ...state.failure.details }, requestId };
    return { status: httpStatus(state.failure.code), body };
  }
  return { status: 201, body: { ...outcomeBody(input), status: 'CONFIRMED' } };
}

function send(c: Context<AppEnv>, answer: StoredAnswer) {
  const orderId = (answer.body as { orderId?: string }).orderId;
  if ((answer.status === 201 || answer.status === 202) && orderId) c.header('Location', `/api/v1/orders/${orderId}`);
  return c.json(answer.body as object, answer.status as 201);
}

export function createCheckoutHandler(deps: OrderDeps, log: Logger): RouteHandler<typeof routes.checkout, AppEnv> {
  const store = createIdempotencyStore(deps.db);

  /** After a 202 the outcome is still stored (and the cart emptied) when it arrives. */
  const settleLater = (claim: Claim, customerId: string, input: PlaceOrderInput, requestId: string) => {
    void deps.saga.awaitOutcome(input.orderId)
      .then((state) => (isUndecided(state) ? undefined : settle(claim, customerId, input, state, requestId)))
      .catch((err: unknown) => log.warn({ err, orderId: input.orderId }, 'checkout outcome not stored; the next repeat of the request stores it'));
  };

  const settle = async (claim: Claim, customerId: string, input: PlaceOrderInput, state: OrderState, requestId: string) => {
    const answer = answerFor(input, state, requestId);
    // a saga stuck in NEEDS_ATTENTION is not an answer to keep: a repeat asks the saga again
    if (answer.status >= 500) return answer;
    return store.answer(claim, customerId, answer, answer.status === 201 ? input.items.map((i) => i.productId) : undefined);
  };

  return async (c) => {
    const customerId = c.get('user')!.id;
    const key = c.req.valid('header')['idempotency-key'];
    const body = c.req.valid('json');
    const requestHash = hashBody(body);

    // Look first: a repeat must get its answer even though the cart is empty by now.
    let claim = await store.find(customerId, key);
    if (!claim) claim = await store.claim(customerId, key, requestHash, await snapshotCart(deps, customerId, body));
    if (claim.requestHash !== requestHash) {
      throw new ApiError(ErrorCodes.IDEMPOTENCY_KEY_REUSED, 'this Idempotency-Key was used with a different request body; use a new key for a new checkout');
    }
    if (claim.answer) return send(c, claim.answer);
    // Written by claim() before the saga started; a row without it predates that and is re-snapshotted under its orderId.
    const input = claim.input ?? { ...(await snapshotCart(deps, customerId, body)), orderId: claim.orderId };

    const state = await deps.saga.placeOrder(input);
    if (isUndecided(state)) {
      settleLater(claim, customerId, input, c.get('requestId'));
      const location = `/api/v1/orders/${input.orderId}`;
      return send(c, { status: 202, body: { ...outcomeBody(input), status: 'PENDING', location } });
    }
    return send(c, await settle(claim, customerId, input, state as OrderState, c.get('requestId')));
  };
}
