import type { OpenAPIHono } from '@hono/zod-openapi';
import { serveRoutes } from '../openapi';
import type { AppEnv } from '../types';
import { createEventsHandler, type EventStreamOptions } from './events';
import type { OrderDeps } from './new-order';
import { createOrderHandlers } from './orders.handlers';
import * as routes from './orders.routes';

export { priceLines, sagaInput, type OrderDeps } from './new-order';
export { findReturn, loadOrder, orderPage, returnFromRow, returnFromState } from './orders.repo';
export { cancelShipmentsOf } from './orders.handlers';
export { createSagaClient, type SagaClient } from './saga-client';

export function registerOrderRoutes(app: OpenAPIHono<AppEnv>, deps: OrderDeps, events: EventStreamOptions): void {
  serveRoutes(app, routes, { ...createOrderHandlers(deps), orderEvents: createEventsHandler(deps.db, events) });
  app.openAPIRegistry.register('OrderEvent', routes.OrderEventSchema);
}
