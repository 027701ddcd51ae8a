import { CancellationScope } from '@temporalio/workflow';
import type { NotificationKind } from '../../domain/shipping';
import { notificationKey } from '../../temporal-config/place-order';
import { notificationRecords, notifications } from './activities';
import { rootMessage } from './failures';
import { record, type Timeline } from './timeline';

/** the part of an order's run a notification sent beside it needs */
export interface NotifyingRun extends Timeline {
  readonly input: { orderId: string; customerId: string };
  readonly workflowId: string;
  /** notifications in flight beside the order; the order waits for them before it ends */
  readonly notificationsSent: Promise<void>[];
}

/**
 * Sends a notification beside the order: it never blocks or fails it. Only in runs
 * that do not leave notifications to the order event feed (run.notifyOnFeed), and
 * only from moveTo (run.ts), right after the status write it belongs to.
 */
export function notify(run: NotifyingRun, kind: NotificationKind): void {
  const { input } = run;
  const args = { orderId: input.orderId, customerId: input.customerId, kind, idempotencyKey: notificationKey(run.workflowId, kind) };
  run.notificationsSent.push(
    CancellationScope.nonCancellable(async () => {
      try {
        await notifications.sendNotification(args);
        record(run, 'NOTIFIED', { kind });
      } catch (err) {
        record(run, 'NOTIFICATION_FAILED', { kind, error: rootMessage(err) });
        await notificationRecords.recordNotificationFailure({ ...args, error: rootMessage(err) }).catch(() => undefined);
      }
    }),
  );
}
