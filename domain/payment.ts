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
  /** authorisations live the gateway's short lifetime (PAYMENT_SHORT_AUTH_LIFETIME_MS) instead of the usual one */
  authExpiresEarly: 'tok_authExpiresEarly',
  /** the first authorisation is granted (short lifetime, as tok_authExpiresEarly); every renewal of it is declined */
  reauthDeclined: 'tok_reauthDeclined',
  /** each capture fails with a transient gateway error N times per key, then succeeds */
  captureTransient: 'tok_captureTransient',
  /** the first capture under each authorisation is refused (issuer_refused); later ones succeed */
  captureRefused: 'tok_captureRefused',
  /** the first refund under each authorisation's captures is refused (issuer_refused); later ones succeed */
  refundRefused: 'tok_refundRefused',
} as const;

/** How long the simulated gateway keeps an authorisation (PAYMENT_AUTH_LIFETIME_MS, PAYMENT_SHORT_AUTH_LIFETIME_MS): a card network's usual hold, and the short one of tok_authExpiresEarly. */
export const AuthorisationLifetimes = {
  usualMs: 7 * 24 * 60 * 60_000,
  shortMs: 2 * 60 * 60_000,
} as const;

export const declineForToken: Readonly<Record<string, DeclineReason>> = {
  [TestTokens.declined]: 'card_declined',
  [TestTokens.insufficientFunds]: 'insufficient_funds',
  [TestTokens.expired]: 'expired_card',
  [TestTokens.invalidCvc]: 'invalid_cvc',
};

export const isKnownToken = (token: string): boolean =>
  (Object.values(TestTokens) as string[]).includes(token);

