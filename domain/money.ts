/**
 * Money is an integer amount of minor units (cents) plus an ISO-4217 code.
 * Each helper refuses what would not be exact (RangeError): a fraction, a result
 * past a safe integer, two currencies.
 */
export interface Money {
  readonly amount: number;
  readonly currency: string;
}

export const money = (amount: number, currency: string): Money => {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`money amount must be an integer of minor units, got ${amount}`);
  if (!/^[A-Z]{3}$/.test(currency)) throw new RangeError(`currency must be an ISO-4217 code, got ${currency}`);
  return { amount, currency };
};

export const addMoney = (a: Money, b: Money): Money => {
  if (a.currency !== b.currency) throw new RangeError(`cannot add ${a.currency} to ${b.currency}`);
  return money(a.amount + b.amount, a.currency);
};

export const multiplyMoney = (m: Money, quantity: number): Money => {
  if (!Number.isSafeInteger(quantity)) throw new RangeError(`quantity must be an integer, got ${quantity}`);
  return money(m.amount * quantity, m.currency);
};

export const sumMoney = (items: readonly Money[], currency: string): Money =>
  items.reduce<Money>((total, item) => addMoney(total, item), money(0, currency));
