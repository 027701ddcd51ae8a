import type { DeclineReason } from './errors';

/**
 * Test payment tokens understood by the simulated gateway, in the style of a
 * card provider's test mode. The API accepts only tokens, so no card number
 * ever reaches a log, the database or a workflow history.
 */
export const TestTokens = {
  success: 'tok_visa',
  declined: 'tok_chargeDeclined',
  insufficientFunds: 'tok_chargeDeclinedInsufficientFunds',
  expired: 'tok_chargeDeclinedExpiredCard',
  invalidCvc: 'tok_chargeDeclinedIncorrectCvc',
  /** fails with a transient gateway error N times per charge, then succeeds */
  transient: 'tok_transientFailure',
  /** answers after the gateway's slow delay */
  slow: 'tok_slow',
} as const;

export const declineForToken: Readonly<Record<string, DeclineReason>> = {
  [TestTokens.declined]: 'card_declined',
  [TestTokens.insufficientFunds]: 'insufficient_funds',
  [TestTokens.expired]: 'expired_card',
  [TestTokens.invalidCvc]: 'invalid_cvc',
};

export const isKnownToken = (token: string): boolean =>
  (Object.values(TestTokens) as string[]).includes(token);

