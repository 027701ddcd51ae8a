import type { RouteDef } from '../../router';
import { LoginPage, RegisterPage } from './auth';
import { CartPage } from './cart';
import { CatalogPage, ProductPage } from './catalog';
import { CheckoutPage } from './checkout';
import { OrderPage } from './order';
import { OrdersPage } from './orders';
import './store.css';

/** The storefront's pages (customers). */
export const storeRoutes: RouteDef[] = [
  { pattern: '/', view: CatalogPage },
  { pattern: '/products/:id', view: ProductPage },
  { pattern: '/login', view: LoginPage },
  { pattern: '/register', view: RegisterPage },
  { pattern: '/cart', needs: 'customer', view: CartPage },
  { pattern: '/checkout', needs: 'customer', view: CheckoutPage },
  { pattern: '/orders', needs: 'customer', view: OrdersPage },
  { pattern: '/orders/:id', needs: 'customer', view: OrderPage },
];
