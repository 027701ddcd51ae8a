import path from 'node:path';
import { z } from 'zod';
import { int, ROOT, stackConfig } from '../../platform/config';

/** `npm run start:prod-like` (docs/prod-like.md): the stack's settings plus the production-like launcher's own. */
export const prodLikeConfig = stackConfig.extend({
  /** `npm run start:prod-like` (docs/prod-like.md): where its PostgreSQL keeps data */
  PROD_LIKE_DATA_DIR: z.string().default(path.join(ROOT, '.data', 'prod-like')),
  /** worker processes per bounded context in production-like mode */
  PROD_LIKE_WORKERS_PER_QUEUE: z.coerce.number().int().min(1).default(2),
  /** the real Temporal server's log level */
  PROD_LIKE_TEMPORAL_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'fatal']).default('warn'),
  /** run the Web UI server beside it (0/false/no = not) */
  PROD_LIKE_UI: z
    .string()
    .default('1')
    .transform((v) => !['0', 'false', 'no'].includes(v.toLowerCase())),
  /** Prometheus /metrics port of the Temporal server; 0 = off */
  PROD_LIKE_METRICS_PORT: int(0),
});
export type ProdLikeConfig = z.infer<typeof prodLikeConfig>;
