import { createRoute, z } from '@hono/zod-openapi';
import { OrderSummarySchema, orderRequest, ShipmentsCancelledSchema, ShipmentsCancelSchema } from '../orders/orders.routes';
import { error, errors, json, response } from '../openapi';
import {
  InspectionSchema,
  OrderIdParam,
  OrderSchema,
  page,
  PageQuery,
  ProductSchema,
  RequestAcceptedSchema,
  ReturnSchema,
  ReturnStatusSchema,
  StatusSchema,
  text,
} from '../schemas';
import { AttentionSchema, Repairs } from './attention';
import { MAX_EMAIL_MATCHES } from './search';

const PriceInput = z
  .object({ amount: z.number().int().min(0).max(100_000_000), currency: z.string().regex(/^[A-Z]{3}$/, 'ISO-4217 code, e.g. USD') })
  .openapi('PriceInput', { description: 'integer minor units' });

const productFields = {
  name: text(1, 200),
  description: text(0, 2000),
  category: text(1, 50).transform((s) => s.toLowerCase()),
  price: PriceInput,
  weightGrams: z.number().int().min(0).max(1_000_000),
  warehouse: text(1, 50),
  active: z.boolean(),
};

export const NewProductSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -').optional().openapi({ description: 'default: prod_<random>' }),
    sku: text(1, 64),
    ...productFields,
    description: productFields.description.default(''),
    weightGrams: productFields.weightGrams.default(0),
    warehouse: productFields.warehouse.default('main'),
    active: productFields.active.default(true),
    stock: z.number().int().min(0).max(1_000_000).default(0).openapi({ description: 'initial available units' }),
  })
  .openapi('NewProduct');

export const ProductPatchSchema = z
  .object(productFields)
  .partial()
  .refine((p) => Object.keys(p).length > 0, 'send at least one field to change')
  .openapi('ProductPatch');

export const InventoryChangeSchema = z
  .object({
    available: z.number().int().max(1_000_000).optional().openapi({ description: 'set available units to this' }),
    add: z.number().int().min(-1_000_000).max(1_000_000).optional().openapi({ description: 'add this many (negative removes)' }),
  })
  .refine((b) => (b.available === undefined) !== (b.add === undefined), 'send exactly one of available or add')
  .openapi('InventoryChange', { description: 'available never goes below zero (422 STOCK_BELOW_ZERO)' });

export const StockSchema = z
  .object({ productId: z.string(), available: z.number().int(), reserved: z.number().int(), sold: z.number().int(), returned: z.number().int() })
  .openapi('Stock');

const ProductParam = z.object({ id: text(1, 100).openapi({ param: { name: 'id', in: 'path' }, example: 'prod_mug' }) });
const InventoryParam = z.object({ productId: text(1, 100).openapi({ param: { name: 'productId', in: 'path' }, example: 'prod_mug' }) });

export const createProduct = createRoute({
  method: 'post',
  path: '/api/v1/admin/products',
  tags: ['admin'],
  summary: 'Add a product to the catalog',
  request: { body: { required: true, content: json(NewProductSchema) } },
  responses: { 201: response('created', ProductSchema), ...errors(409) },
});

export const updateProduct = createRoute({
  method: 'patch',
  path: '/api/v1/admin/products/{id}',
  tags: ['admin'],
  summary: 'Change a product (price, name, active, ...)',
  request: { params: ProductParam, body: { required: true, content: json(ProductPatchSchema) } },
  responses: { 200: response('the product after the change', ProductSchema), ...errors(404) },
});

export const setInventory = createRoute({
  method: 'put',
  path: '/api/v1/admin/inventory/{productId}',
  tags: ['admin'],
  summary: 'Set ({available}) or adjust ({add}) the available stock of a product',
  request: {
    params: InventoryParam,
    body: { required: true, content: json(InventoryChangeSchema) },
  },
  responses: { 200: response('stock after the change', StockSchema), ...errors(404, 422) },
});

/** The tag of the routes added for the operator console (web/), exercised together by tests/api/admin-console.test.ts. */
export const CONSOLE = 'console';

/** What an operator sees of an order beside what its customer sees (api/admin/attention.ts decides them). */
const adminFields = {
  workflowId: z.string().openapi({ description: "its PlaceOrder saga's workflow id in Temporal (GET /api/v1/admin/settings says where the Web UI is)" }),
  customerEmail: z.string().nullable().openapi({ description: "the customer's account e-mail; null when the customer id is no account's" }),
  attention: z.union([AttentionSchema, z.null()]).openapi({ description: 'why the order waits for an operator; null unless NEEDS_ATTENTION' }),
  repairs: z.array(z.enum(Repairs)).openapi({
    description:
      'the admin actions that apply now: RETRY_COMPENSATIONS (POST …/retry-compensations), RETRY_PAYMENT (POST …/retry-payment), ' +
      'CANCEL_SHIPMENTS (POST …/shipments/cancel: some shipments are still in the warehouse)',
  }),
};

export const AdminOrderSummarySchema = OrderSummarySchema.extend(adminFields).openapi('AdminOrderSummary');
export const AdminOrderSchema = OrderSchema.extend(adminFields).openapi('AdminOrder');

export const listAllOrders = createRoute({
  method: 'get',
  path: '/api/v1/admin/orders',
  tags: ['admin'],
  summary: "Every customer's orders, newest first, optionally by status and by what the search box finds",
  request: {
    query: PageQuery.extend({
      status: StatusSchema.optional().openapi({ param: { name: 'status', in: 'query' } }),
      // at most the longest e-mail address an account may have (RFC 5321)
      q: text(0, 254)
        .optional()
        .openapi({
          param: { name: 'q', in: 'query' },
          example: 'ada@',
          description:
            "finds an order by its id (a uuid), by its customer's e-mail (any that starts with q, whatever the case), or by a tracking number " +
            `(exactly q: a shipment's, or a return parcel's); empty: every order. A prefix of more than ${MAX_EMAIL_MATCHES} customers' e-mails is a 400: type more of it`,
        }),
    }),
  },
  responses: { 200: response('one page of orders', page(AdminOrderSummarySchema, 'AdminOrderPage')), ...errors() },
});

export const getAnyOrder = createRoute({
  method: 'get',
  path: '/api/v1/admin/orders/{id}',
  tags: [CONSOLE],
  summary: "Any customer's order as GET /api/v1/orders/{id} shows it, with its workflow id, the customer's e-mail, why it waits and what an operator may do",
  request: { params: OrderIdParam },
  responses: { 200: response('the order', AdminOrderSchema), ...errors(), 404: error(404, 'ORDER_NOT_FOUND: no such order') },
});

export const retryCompensations = orderRequest({
  path: '/api/v1/admin/orders/{id}/retry-compensations',
  tags: [CONSOLE],
  summary: 'Retry the compensations (refund, stock release, shipment cancel) that failed and hold the order in NEEDS_ATTENTION (COMPENSATION_FAILED)',
  description: 'Only those that failed run again; done, the order is CANCELLED or FAILED as the saga meant it to end. Failing again, it waits as before.',
  note: z.object({}),
  success: { 202: response('the saga is told; follow GET /api/v1/admin/orders/{id} or its event stream for the outcome', RequestAcceptedSchema) },
  refused: {
    404: error(404, 'ORDER_NOT_FOUND: no such order'),
    409: error(409, 'NOTHING_TO_RETRY: the order does not wait on failed compensations (details.status)'),
  },
});

export const cancelAnyShipments = orderRequest({
  path: '/api/v1/admin/orders/{id}/shipments/cancel',
  tags: [CONSOLE],
  summary: "Cancel the shipments of any customer's order that the carrier does not have yet, as its customer can (POST /api/v1/orders/{id}/shipments/cancel)",
  description: 'Shipments already handed to the carrier are unaffected. Before any shipment is handed over, cancelling all of them cancels the order.',
  note: ShipmentsCancelSchema,
  success: { 202: response('accepted: the named shipments are CANCELLED, their amount voided in the background', ShipmentsCancelledSchema) },
  refused: {
    404: error(404, 'ORDER_NOT_FOUND: no such order'),
    409: error(
      409,
      "SHIPMENT_NOT_CANCELLABLE: one named is not in the warehouse any more (handed over, being handed over, cancelled, or not this order's), none is left, " +
        'the order is unwinding, or it was placed before per-shipment payments (details.status)',
    ),
  },
});

export const returnReceived = orderRequest({
  path: '/api/v1/admin/orders/{id}/return-received',
  tags: ['admin'],
  summary: 'The warehouse has the goods of a RETURN_REQUESTED order back: restock and refund follow, then RETURNED',
  description:
    'For an order returned by lines: the one return awaiting its goods is received with every line restocked (with several awaiting, 400: ' +
    'name one at POST /api/v1/admin/orders/{id}/returns/{returnId}/received).',
  note: z.object({ note: text(0, 500).optional().openapi({ description: 'what the warehouse noticed, kept on the timeline' }) }),
  success: { 202: response('recorded: the order is restocked and refunded, then RETURNED (follow GET /api/v1/orders/{id} or its event stream)', RequestAcceptedSchema) },
  refused: {
    404: error(404, 'ORDER_NOT_FOUND: no such order'),
    409: error(409, 'RETURN_NOT_REQUESTED: no return awaits this order’s goods (details.status: never asked for, received already, or lapsed)'),
  },
});

export const retryPayment = orderRequest({
  path: '/api/v1/admin/orders/{id}/retry-payment',
  tags: ['payments'],
  summary: 'Retry the payment step an order waits on in NEEDS_ATTENTION: a refused capture, a declined re-authorisation, a refused refund',
  note: z.object({}),
  success: { 202: response('the saga is told; follow GET /api/v1/orders/{id} or its event stream for the outcome', RequestAcceptedSchema) },
  refused: {
    404: error(404, 'ORDER_NOT_FOUND: no such order'),
    409: error(409, 'NOTHING_TO_RETRY: the order waits on no payment step (details.status)'),
  },
});

const ReturnParams = OrderIdParam.extend({ returnId: text(1, 100).openapi({ param: { name: 'returnId', in: 'path' } }) });

export const ReturnAcceptedSchema = z
  .object({ orderId: z.string().uuid(), returnId: z.string(), accepted: z.literal(true), status: ReturnStatusSchema })
  .openapi('ReturnAccepted', { description: 'the saga is told; status is the return\'s as recorded when it was' });

const returnRefused = (conflict: string) => ({
  400: error(400, 'VALIDATION_FAILED (details.fields): a bad field, or an inspection that does not account for exactly the units the return holds; or INVALID_JSON'),
  404: error(404, 'ORDER_NOT_FOUND or RETURN_NOT_FOUND (the order has no such return)'),
  409: error(409, conflict),
});

export const receiveReturn = orderRequest({
  path: '/api/v1/admin/orders/{id}/returns/{returnId}/received',
  tags: ['returns'],
  summary: 'The warehouse has a return\'s parcel: inspected now (inspection) or later (…/inspect); then refunded, restocked lines back on sale',
  params: ReturnParams,
  note: z
    .object({
      note: text(0, 500).optional().openapi({ description: 'what the warehouse noticed, kept on the return\'s timeline' }),
      // inspected on receipt; without it, later (…/inspect)
      inspection: InspectionSchema.optional(),
    })
    .openapi('ReturnReceipt'),
  success: { 202: response('recorded: the return is RECEIVED (and INSPECTED, then REFUNDED, when inspection came with it)', ReturnAcceptedSchema) },
  refused: returnRefused('RETURN_NOT_REQUESTED: the return does not await its goods (details.status: received already, or lapsed)'),
});

export const inspectReturn = orderRequest({
  path: '/api/v1/admin/orders/{id}/returns/{returnId}/inspect',
  tags: ['returns'],
  summary: 'The warehouse\'s inspection of a RECEIVED return, per line: RESTOCK, WRITE_OFF (refunded, not restocked) or REJECT (not refunded, with a reason)',
  params: ReturnParams,
  note: z.object({ lines: InspectionSchema }).openapi('ReturnInspection'),
  required: true,
  success: { 200: response('the return, INSPECTED: the refund of its lines not rejected follows', ReturnSchema) },
  refused: returnRefused('RETURN_NOT_INSPECTABLE: the return is not RECEIVED (not yet, or inspected already; details.status)'),
});

export const listReturns = createRoute({
  method: 'get',
  path: '/api/v1/admin/returns',
  tags: [CONSOLE],
  summary: "Every order's returns, oldest request first (the order they are worked in), optionally by status: REQUESTED awaits its goods, RECEIVED its inspection",
  request: { query: PageQuery.extend({ status: ReturnStatusSchema.optional().openapi({ param: { name: 'status', in: 'query' } }) }) },
  responses: { 200: response('one page of returns', page(ReturnSchema, 'ReturnPage')), ...errors() },
});

/** A product as the stock page shows it: what identifies it, where it is kept, and every count of its stock. */
export const InventoryItemSchema = z
  .object({
    id: z.string(),
    sku: z.string(),
    name: z.string(),
    active: z.boolean().openapi({ description: 'false: not in the catalog (GET /api/v1/products), still listed here' }),
    warehouse: z.string().openapi({ description: 'where its units are kept and its shipments leave from', example: 'main' }),
    stock: StockSchema.openapi({ description: 'its units now: all zero for a product whose stock was never set' }),
  })
  .openapi('InventoryItem');

export const listInventory = createRoute({
  method: 'get',
  path: '/api/v1/admin/inventory',
  tags: [CONSOLE],
  summary: 'Every product, inactive ones too, with its warehouse and its stock: available, reserved, sold, returned (by id; cursor pagination)',
  request: {
    query: PageQuery.extend({
      q: text(0, 100)
        .optional()
        .openapi({ param: { name: 'q', in: 'query' }, example: 'mug', description: 'part of the name, or the start of the SKU, any case; empty: every product' }),
      warehouse: text(0, 50)
        .optional()
        .openapi({ param: { name: 'warehouse', in: 'query' }, example: 'main', description: 'only the products kept in this warehouse (any case); empty: every warehouse' }),
    }),
  },
  responses: { 200: response('one page of products with their stock', page(InventoryItemSchema, 'InventoryPage')), ...errors() },
});

export const AdminSettingsSchema = z
  .object({
    temporalUi: z.object({
      url: z.string().nullable().openapi({ description: 'the Temporal Web UI (TEMPORAL_UI_URL), no trailing slash; null: none known', example: 'http://127.0.0.1:8233' }),
      namespace: z.string().openapi({ description: "the namespace of the orders' workflows", example: 'default' }),
    }),
  })
  .openapi('AdminSettings', { description: "an order's saga in the Web UI: {url}/namespaces/{namespace}/workflows/{workflowId}" });

export const getSettings = createRoute({
  method: 'get',
  path: '/api/v1/admin/settings',
  tags: [CONSOLE],
  summary: 'What the operator console needs to know of this deployment: where the Temporal Web UI is',
  responses: { 200: response('the settings', AdminSettingsSchema), ...errors() },
});
