import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../types';
import { createEventsHandler, type EventStreamOptions } from './events';
import { createOrderHandlers } from './orders.handlers';
import * as routes from './orders.routes';
import type { OrderDeps } from './place-order';

export { awaitOutcome, placeOrderAndWait, priceLines, type OrderDeps } from './place-order';
export { findOwnedOrder, listOrders } from './orders.repo';

export function registerOrderRoutes(app: OpenAPIHono<AppEnv>, deps: OrderDeps, events: EventStreamOptions): void {
  const h = createOrderHandlers(deps);
  app.openapi(routes.placeOrder, h.placeOrder);
  app.openapi(routes.listOrders, h.list);
  app.openapi(routes.getOrder, h.get);
  app.openapi(routes.cancelOrder, h.cancel);
  app.openapi(routes.orderEvents, createEventsHandler(deps.db, events));
  app.openAPIRegistry.register('OrderEvent', routes.OrderEventSchema);
}
