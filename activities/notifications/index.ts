import type { Db } from '../../prisma/client';
import type { NotificationChannel, NotificationKind } from '../../domain/shipping';
import type { NotificationSender } from './sender';

export interface NotifyInput {
  orderId: string;
  customerId: string;
  kind: NotificationKind;
  /** derived from the workflow id and kind: a retried send is recorded once */
  idempotencyKey: string;
  detail?: Record<string, unknown>;
}

const subjects: Record<NotificationKind, string> = {
  ORDER_CONFIRMED: 'Your order is confirmed',
  PAYMENT_FAILED: 'Your payment did not go through',
  ORDER_FAILED: 'We could not complete your order',
  ORDER_CANCELLED: 'Your order was cancelled',
  ORDER_SHIPPED: 'Your order is on its way',
  ORDER_DELIVERED: 'Your order was delivered',
  ORDER_REFUNDED: 'Your refund is on its way',
  DELIVERY_OVERDUE: 'Your delivery is late',
};

const CHANNELS: NotificationChannel[] = ['email', 'sms'];

/**
 * Notifications context: email and SMS through a sender, each recorded in the
 * notifications table. A failing provider throws, Temporal retries with
 * backoff; after the last attempt the workflow records it as FAILED.
 */
export function createNotificationsActivities(db: Db, sender: NotificationSender) {
  const recipientFor = async (customerId: string, channel: NotificationChannel) => {
    const user = /^[0-9a-f-]{36}$/i.test(customerId) ? await db.user.findUnique({ where: { id: customerId }, select: { email: true } }) : null;
    return channel === 'email' ? (user?.email ?? `${customerId}@customers.invalid`) : `sms:${customerId}`;
  };
  return {
    async sendNotification(input: NotifyInput): Promise<{ sent: number }> {
      let sent = 0;
      for (const channel of CHANNELS) {
        const key = `${input.idempotencyKey}:${channel}`;
        const done = await db.notification.findUnique({ where: { idempotencyKey: key } });
        if (done?.status === 'SENT') continue;
        const recipient = await recipientFor(input.customerId, channel);
        await sender.send({ channel, recipient, subject: subjects[input.kind], body: `Order ${input.orderId}: ${subjects[input.kind]}.` });
        await db.notification.upsert({
          where: { idempotencyKey: key },
          create: { orderId: input.orderId, idempotencyKey: key, channel, kind: input.kind, recipient, status: 'SENT' },
          update: { status: 'SENT', attempts: { increment: 1 }, error: null },
        });
        sent += 1;
      }
      return { sent };
    },

    /** After the retries ran out: visible, and never blocking the order. */
    async recordNotificationFailure(input: NotifyInput & { error: string }): Promise<void> {
      for (const channel of CHANNELS) {
        const key = `${input.idempotencyKey}:${channel}`;
        const recipient = await recipientFor(input.customerId, channel);
        await db.notification.upsert({
          where: { idempotencyKey: key },
          create: { orderId: input.orderId, idempotencyKey: key, channel, kind: input.kind, recipient, status: 'FAILED', error: input.error },
          update: {},
        });
      }
    },
  };
}
