/**
 * The benchmark's API process: the product's (api/process.ts) with the
 * variants' switches of ./config.ts — how a checkout starts its saga, when
 * the saga confirms, where its order writes run — or the one-transaction
 * baseline route (baseline a).
 */
import { runApiServer, type ApiExtensions } from '../../api/process';
import { databaseUrl, loadConfig, workerConfig } from '../../platform/config';
import { createDb } from '../../prisma/client';
import { simulatedGatewayOptions } from '../../activities/payments/gateway';
import { benchConfig, variantInterceptors } from './config';
import { baselineCheckoutRoute } from './direct-checkout';

const bench = loadConfig(benchConfig);
let extraRoutes: ApiExtensions['extraRoutes'];
if (bench.CHECKOUT_ENGINE === 'direct-baseline') {
  // the simulated provider as the payments worker would run it (PAYMENT_* settings)
  const config = loadConfig(workerConfig);
  extraRoutes = baselineCheckoutRoute(createDb(databaseUrl(config), { poolSize: config.DB_POOL_SIZE }), simulatedGatewayOptions(config));
  console.warn('CHECKOUT_ENGINE=direct-baseline: POST /api/v1/orders runs in one database transaction without Temporal (the benchmark baseline; no saga, no compensation)');
}
await runApiServer({ extraRoutes, workflowInterceptors: variantInterceptors(bench), checkoutStart: bench.CHECKOUT_START });
