import { createNotificationsActivities } from '../activities/notifications';
import { LoggingSender } from '../activities/notifications/sender';
import { startFeedDispatcher, type FeedDispatcher } from '../feed/dispatcher';
import { createFeedMetrics } from '../feed/metrics';
import { databaseUrl, type WorkerConfig } from '../platform/config';
import type { Logger } from '../platform/logger';
import { parseAllowList } from '../platform/outbound-target';
import type { Db } from '../prisma/client';

/** The event feed's dispatcher as a worker process runs it, from its settings (FEED_*, NOTIFICATION_RETRY_PERIOD_MS). */
export function startFeedFromConfig(config: WorkerConfig, db: Db, log: Logger, withMetrics: boolean): FeedDispatcher {
  const feedLog = log.child({ component: 'feed' });
  return startFeedDispatcher({
    db,
    databaseUrl: databaseUrl(config),
    log: feedLog,
    settings: {
      retryPeriodMs: config.FEED_RETRY_PERIOD_MS,
      retryBaseMs: config.FEED_RETRY_BASE_MS,
      retryMaxMs: config.FEED_RETRY_MAX_MS,
      requestTimeoutMs: config.FEED_REQUEST_TIMEOUT_MS,
      batchSize: config.FEED_BATCH_SIZE,
      notificationRetryPeriodMs: config.NOTIFICATION_RETRY_PERIOD_MS,
      retentionMs: config.FEED_RETENTION_DAYS * 24 * 60 * 60_000,
      allow: parseAllowList(config.FEED_ALLOWED_PRIVATE_TARGETS),
    },
    notifications: createNotificationsActivities(db, new LoggingSender((entry, msg) => feedLog.info(entry, msg))),
    metrics: withMetrics ? createFeedMetrics() : undefined,
  });
}
