import { createRoute, z } from '@hono/zod-openapi';
import { errors, json, response } from '../openapi';
import { AddressSchema, OrderOutcomeSchema, PaymentMethodSchema, text } from '../schemas';

export const CheckoutRequestSchema = z
  .object({ shippingAddress: AddressSchema, paymentMethod: PaymentMethodSchema })
  .openapi('CheckoutRequest');

export const checkout = createRoute({
  method: 'post',
  path: '/api/v1/checkout',
  tags: ['checkout'],
  summary: 'Order what is in the cart; answers when the payment outcome is known',
  description:
    'Idempotent per Idempotency-Key: a repeat with the same key and body gets the same answer (waiting for the ' +
    'same order if it is still being decided) and never places or charges a second order; the same key with ' +
    'another body is 422 IDEMPOTENCY_KEY_REUSED. A key is kept for 24 hours; after that it starts a new checkout. ' +
    'The cart is emptied once the order is CONFIRMED.',
  request: {
    headers: z.object({
      'idempotency-key': text(1, 255).openapi({ param: { name: 'idempotency-key', in: 'header' }, example: 'c0ffee-checkout-1' }),
    }),
    body: { required: true, content: json(CheckoutRequestSchema) },
  },
  responses: {
    201: response('CONFIRMED: stock reserved and payment taken', OrderOutcomeSchema),
    202: response('still PENDING after the wait; follow Location or repeat the request', OrderOutcomeSchema),
    ...errors(402, 409, 422),
  },
});
