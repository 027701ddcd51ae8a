import { Runtime } from '@temporalio/worker';
import type { Db } from '../prisma/client';

/** Prometheus series of the feed, served on the worker's metrics endpoint (WORKER_METRICS_PORT) beside the SDK's. */
export const FeedMetricNames = {
  /** delivery attempts by subscription, kind and outcome (delivered, retry, gave_up, gone) */
  attempts: 'feed_delivery_attempts_total',
  /** seconds since the oldest delivery not yet delivered or skipped was written, per subscription (0: none) */
  lag: 'feed_lag_seconds',
  /** deliveries FAILED for good and waiting for an operator, per subscription */
  failed: 'feed_failed_deliveries',
  /** deliveries waiting to be sent, per subscription */
  pending: 'feed_pending_deliveries',
} as const;

export interface FeedMetrics {
  attempt(subscriptionId: string, kind: string, outcome: 'delivered' | 'retry' | 'gave_up' | 'gone'): void;
  /** re-reads lag, failed and pending per subscription */
  refresh(db: Db): Promise<void>;
}

const LAG_SQL = `
SELECT s.id::text AS subscription_id, s.kind,
       coalesce(extract(epoch FROM now() - min(d.created_at) FILTER (WHERE d.status IN ('PENDING', 'FAILED'))), 0)::double precision AS lag,
       count(*) FILTER (WHERE d.status = 'FAILED')::int AS failed,
       count(*) FILTER (WHERE d.status = 'PENDING')::int AS pending
FROM feed_subscriptions s LEFT JOIN feed_deliveries d ON d.subscription_id = s.id AND d.status IN ('PENDING', 'FAILED')
GROUP BY s.id, s.kind`;

/** The feed's metrics on the process's Temporal Runtime meter (installed before this is called). */
export function createFeedMetrics(): FeedMetrics {
  const meter = Runtime.instance().metricMeter;
  const attempts = meter.createCounter(FeedMetricNames.attempts, 'attempts', 'event feed delivery attempts by outcome');
  const lag = meter.createGauge(FeedMetricNames.lag, 'float', 's', 'age of the oldest delivery not yet delivered or skipped');
  const failed = meter.createGauge(FeedMetricNames.failed, 'int', 'deliveries', 'deliveries failed for good, waiting for an operator');
  const pending = meter.createGauge(FeedMetricNames.pending, 'int', 'deliveries', 'deliveries waiting to be sent');
  return {
    attempt(subscriptionId, kind, outcome) {
      attempts.add(1, { subscription: subscriptionId, kind, outcome });
    },
    async refresh(db) {
      const rows = await db.$queryRawUnsafe<{ subscription_id: string; kind: string; lag: number; failed: number; pending: number }[]>(LAG_SQL);
      for (const r of rows) {
        const tags = { subscription: r.subscription_id, kind: r.kind };
        lag.set(Number(r.lag), tags);
        failed.set(r.failed, tags);
        pending.set(r.pending, tags);
      }
    },
  };
}
