/** Keys of the in-process test apps: fixed so a test can sign with them, never used outside tests. */
export const TEST_JWT_SECRET = 'test-only-jwt-secret-9c41f0d27be85a36e1f4';
export const TEST_CARRIER_WEBHOOK_SECRET = 'test-only-carrier-secret-4d7e2a91c06b38f5';

/** createApp's secret dependencies for a test app. */
export const testSecrets = { jwtSecret: TEST_JWT_SECRET, carrierWebhookSecret: TEST_CARRIER_WEBHOOK_SECRET };
