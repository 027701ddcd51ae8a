import { CancellationScope } from '@temporalio/workflow';
import type { NotificationKind } from '../../domain/shipping';
import { notificationKey } from '../../temporal-config/place-order';
import { notificationRecords, notifications } from './activities';
import { rootMessage } from './failures';
import type { OrderRun } from './run';
import { flush, record } from './timeline';

/**
 * Sends a notification beside the order: it never blocks or fails it. Only in runs
 * that do not leave notifications to the order event feed (run.notifyOnFeed), and
 * only from moveTo (run.ts), right after the status write it belongs to.
 */
export function notify(run: OrderRun, kind: NotificationKind): void {
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

/**
 * Waits for the notifications still in flight, then writes their timeline events
 * (and any other event recorded since the last write). On the feed there are none
 * in flight: it writes only what a handler recorded after the last status write,
 * which is usually nothing (no command).
 */
export async function settleNotifications(run: OrderRun): Promise<void> {
  await Promise.all(run.notificationsSent);
  if (run.pending.length > 0) {
    const events = flush(run);
    await CancellationScope.nonCancellable(() => run.orderWrites.recordOrderStatus({ orderId: run.input.orderId, status: run.state.status, events }));
  }
}
