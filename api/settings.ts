import { apiConfig, localTemporalUi, type ApiConfig } from '../platform/config';
import { daysToMs, type FulfilmentTimings } from '../temporal-config/place-order';
import type { CheckoutStart } from './orders/saga-client';

/** What the HTTP API takes from its configuration (platform/config.ts, the API's section). */
export interface ApiSettings {
  /** how long POST /api/v1/orders waits for the payment outcome before answering 202 */
  outcomeWaitMs: number;
  /** how a checkout starts its saga (api/orders/saga-client.ts); absent = the saga client's default, update-with-start (the benchmark's "before" sets the other) */
  checkoutStart?: CheckoutStart;
  /** handed to each new saga */
  reservationTtlMs: number;
  fulfilment: Required<FulfilmentTimings>;
  jwtTtlSeconds: number;
  /** per user (per IP when anonymous), per API process; 0 = off */
  rateLimitPerMinute: number;
  eventStreamLifetimeMs: number;
  eventStreamsPerCustomer: number;
  eventStreamsPerProcess: number;
  /** webhook targets allowed although private: IPs or CIDRs, comma-separated (platform/outbound-target.ts reads them) */
  feedAllowedPrivateTargets: string;
  /** after a webhook secret is rotated, the previous one still signs for this long */
  feedSecretGraceMs: number;
  /** the Temporal Web UI the operator console links orders to (no trailing slash); null: none known */
  temporalUiUrl: string | null;
}

export const apiSettings = (c: ApiConfig): ApiSettings => ({
  outcomeWaitMs: c.CHECKOUT_WAIT_MS,
  reservationTtlMs: c.RESERVATION_TTL_MS,
  fulfilment: {
    handlingMs: c.FULFILMENT_HANDLING_MS,
    deliveryGraceMs: daysToMs(c.DELIVERY_GRACE_DAYS),
    returnWindowMs: daysToMs(c.RETURN_WINDOW_DAYS),
    returnShippingMs: daysToMs(c.RETURN_SHIPPING_DAYS),
  },
  jwtTtlSeconds: c.JWT_TTL_SECONDS,
  rateLimitPerMinute: c.RATE_LIMIT_PER_MINUTE,
  eventStreamLifetimeMs: c.EVENT_STREAM_LIFETIME_MS,
  eventStreamsPerCustomer: c.EVENT_STREAMS_PER_CUSTOMER,
  eventStreamsPerProcess: c.EVENT_STREAMS_PER_PROCESS,
  feedAllowedPrivateTargets: c.FEED_ALLOWED_PRIVATE_TARGETS,
  feedSecretGraceMs: c.FEED_SECRET_GRACE_MS,
  // the same rule as the codec endpoint's CODEC_UI_ORIGINS: only in development is the UI known to be the local one
  temporalUiUrl: c.TEMPORAL_UI_URL ?? (c.NODE_ENV === 'development' ? localTemporalUi(c) : null),
});

/** The settings of an API given no configuration: the config schema's defaults, never restated. */
export const API_DEFAULTS: ApiSettings = apiSettings(apiConfig.parse({}));
