import { money, multiplyMoney, sumMoney, type Money } from './money';

/** A line of an order with the price snapshot taken at checkout. */
export interface OrderLine {
  productId: string;
  sku: string;
  name: string;
  quantity: number;
  /** minor units, in the order's currency */
  unitPriceAmount: number;
}

export interface ShippingAddress {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  postalCode: string;
  country: string;
}

/** Payment instrument as a token from the (simulated) provider; never a card number. */
export interface PaymentMethod {
  token: string;
}

export const lineTotal = (line: Pick<OrderLine, 'unitPriceAmount' | 'quantity'>, currency: string): Money =>
  multiplyMoney(money(line.unitPriceAmount, currency), line.quantity);

export const orderTotal = (items: readonly OrderLine[], currency: string): Money =>
  sumMoney(items.map((line) => lineTotal(line, currency)), currency);
