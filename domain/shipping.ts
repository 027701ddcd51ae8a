/**
 * Carrier choice, defined once: heavy parcels go by freight, international
 * ones by an international carrier, the rest by the fast domestic one.
 */
export interface CarrierChoice {
  carrier: string;
  trackingPrefix: string;
  estimatedDeliveryDays: number;
}

export const HOME_COUNTRY = 'US';

export function chooseCarrier(parcel: { weightGrams: number; itemCount: number; country: string }): CarrierChoice {
  if (parcel.weightGrams > 5_000 || parcel.itemCount > 20) return { carrier: 'FreightCo', trackingPrefix: 'FC', estimatedDeliveryDays: 5 };
  if (parcel.country !== HOME_COUNTRY) return { carrier: 'GlobalPost', trackingPrefix: 'GP', estimatedDeliveryDays: 7 };
  return { carrier: 'SwiftShip', trackingPrefix: 'SS', estimatedDeliveryDays: 2 };
}

export interface ShipmentPlan {
  shipmentId: string;
  warehouse: string;
  carrier: string;
  trackingNumber: string;
  estimatedDeliveryDays: number;
  /** the order lines it carries (whole lines: each product ships from one warehouse) */
  items: { productId: string; quantity: number }[];
}

export type NotificationKind = 'ORDER_CONFIRMED' | 'PAYMENT_FAILED' | 'ORDER_FAILED' | 'ORDER_CANCELLED' | 'ORDER_SHIPPED' | 'ORDER_DELIVERED' | 'ORDER_REFUNDED' | 'DELIVERY_OVERDUE';
export type NotificationChannel = 'email' | 'sms';
