import { maskEmails } from '../../platform/logger';
import type { NotificationChannel } from '../../domain/shipping';

export interface OutgoingMessage {
  channel: NotificationChannel;
  recipient: string;
  subject: string;
  body: string;
}

/** What a real email or SMS provider would implement. Throws when the provider is unavailable. */
export interface NotificationSender {
  send(message: OutgoingMessage): Promise<void>;
}

/** Writes the message to the log instead of a provider. */
export class LoggingSender implements NotificationSender {
  constructor(private readonly log: (entry: Record<string, unknown>, msg: string) => void) {}

  async send(message: OutgoingMessage): Promise<void> {
    // a digest, never the address: logs are read by more people than the customer table
    this.log({ channel: message.channel, recipient: maskEmails(message.recipient), subject: message.subject }, 'notification sent (simulated)');
  }
}
