import type { RouteDef } from '../../router';
import { AttentionPage } from './attention';
import { OrderPage } from './order';
import { OrdersPage } from './orders';
import { ReturnsPage } from './returns';
import { StockPage } from './stock';
import { WebhookPage, WebhooksPage } from './webhooks';
import './console.css';

/** The operator console's pages (admin role), all under /console. */
export const consoleRoutes: RouteDef[] = [
  { pattern: '/console', needs: 'admin', view: OrdersPage },
  { pattern: '/console/attention', needs: 'admin', view: AttentionPage },
  { pattern: '/console/orders/:id', needs: 'admin', view: OrderPage },
  { pattern: '/console/stock', needs: 'admin', view: StockPage },
  { pattern: '/console/returns', needs: 'admin', view: ReturnsPage },
  { pattern: '/console/webhooks', needs: 'admin', view: WebhooksPage },
  { pattern: '/console/webhooks/:id', needs: 'admin', view: WebhookPage },
];
