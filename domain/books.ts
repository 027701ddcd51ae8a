/**
 * An order's books: what was authorised, captured, voided and refunded, per
 * order and per order line, computed from its payments rows. One definition
 * shared by the API (GET /api/v1/orders/:id shows it) and the tests (every
 * test that moves money checks it balances). Pure: no I/O, safe in workflow code.
 *
 * Money is integer minor units in the order's currency.
 */

/** The money an order (or one of its lines) has been through. */
export interface MoneyMoves {
  authorised: number;
  captured: number;
  voided: number;
  refunded: number;
}

/** One order line's books, next to what the line costs. */
export interface LineBooks extends MoneyMoves {
  productId: string;
  quantity: number;
  /** the line's total (unit price x quantity) */
  amount: number;
}

export interface OrderBooks extends MoneyMoves {
  currency: string;
  /** the order's total: the sum of its lines (shipping is free in this shop) */
  amount: number;
  lines: LineBooks[];
  /**
   * Money in the order's totals that no line accounts for: a row whose `lines`
   * do not sum to its amount, or name a product the order does not have. Zero
   * in books that balance.
   */
  unallocated: MoneyMoves;
}

/** An order line as the books need it (an order_items row fits). */
export interface BooksOrderLine {
  productId: string;
  quantity: number;
  lineTotalAmount: number;
}

export type BooksPaymentKind = 'CHARGE' | 'REFUND' | 'AUTHORISATION' | 'CAPTURE' | 'VOID';

/** A payments row as the books need it (a Prisma Payment fits). */
export interface BooksPayment {
  kind: BooksPaymentKind;
  /** only SUCCEEDED rows moved money */
  status: string;
  amount: number;
  currency: string;
  /** [{ productId, amount }] summing to amount, as stored (JSON); empty on rows written before per-line payments */
  lines: unknown;
}

/** What one payments row covers of one line. */
export interface LineShare {
  productId: string;
  amount: number;
}

const noMoves = (): MoneyMoves => ({ authorised: 0, captured: 0, voided: 0, refunded: 0 });
const moveNames = ['authorised', 'captured', 'voided', 'refunded'] as const satisfies readonly (keyof MoneyMoves)[];

/** Which totals a row of each kind adds to: a legacy charge was an authorisation captured at once. */
const movesOf: Record<BooksPaymentKind, readonly (keyof MoneyMoves)[]> = {
  AUTHORISATION: ['authorised'],
  CAPTURE: ['captured'],
  VOID: ['voided'],
  REFUND: ['refunded'],
  CHARGE: ['authorised', 'captured'],
};

/**
 * The row's per-line shares as stored. Entries that are not
 * { productId: string, amount: safe integer } are left out, so their money
 * shows as unallocated rather than vanishing.
 */
export function parseLineShares(json: unknown): LineShare[] {
  if (!Array.isArray(json)) return [];
  return json.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { productId, amount } = entry as Record<string, unknown>;
    return typeof productId === 'string' && typeof amount === 'number' && Number.isSafeInteger(amount) ? [{ productId, amount }] : [];
  });
}

/**
 * Splits amount into integer parts proportional to weights (largest remainder:
 * the parts sum to amount exactly; ties go to the earlier weight). All weights
 * zero (or none): nothing can be allocated, every part is 0.
 */
export function allocateByWeight(amount: number, weights: readonly number[]): number[] {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`amount must be an integer of minor units, got ${amount}`);
  if (weights.some((w) => !Number.isSafeInteger(w) || w < 0)) throw new RangeError(`weights must be non-negative integers, got ${weights.join(', ')}`);
  const total = weights.reduce((s, w) => s + BigInt(w), 0n);
  if (total === 0n) return weights.map(() => 0);
  if (amount < 0) return allocateByWeight(-amount, weights).map((part) => -part);
  const exact = weights.map((w) => BigInt(amount) * BigInt(w));
  const parts = exact.map((e) => e / total);
  let left = BigInt(amount) - parts.reduce((s, p) => s + p, 0n);
  const byRemainder = exact.map((e, i) => ({ i, rest: e % total })).sort((a, b) => (a.rest === b.rest ? a.i - b.i : a.rest > b.rest ? -1 : 1));
  for (const { i } of byRemainder) {
    if (left === 0n) break;
    parts[i] += 1n;
    left -= 1n;
  }
  return parts.map(Number);
}

/**
 * A row's shares of the order's lines. Rows written before per-line payments
 * (a CHARGE or REFUND with no lines) covered the whole order: they are spread
 * over the lines by the lines' totals.
 */
function sharesOf(row: BooksPayment, lines: readonly BooksOrderLine[]): LineShare[] {
  const stored = parseLineShares(row.lines);
  const legacy = (row.kind === 'CHARGE' || row.kind === 'REFUND') && (!Array.isArray(row.lines) || row.lines.length === 0);
  if (!legacy) return stored;
  const parts = allocateByWeight(row.amount, lines.map((l) => l.lineTotalAmount));
  return lines.map((l, i) => ({ productId: l.productId, amount: parts[i] }));
}

/** Adds one row's amount to the order's total for `move`, its shares to their lines, and what no line took to unallocated. */
function post(books: OrderBooks, byProduct: ReadonlyMap<string, LineBooks>, move: keyof MoneyMoves, amount: number, shares: readonly LineShare[]): void {
  let allocated = 0;
  for (const share of shares) {
    const line = byProduct.get(share.productId);
    if (!line) continue;
    line[move] += share.amount;
    allocated += share.amount;
  }
  books[move] += amount;
  books.unallocated[move] += amount - allocated;
}

/**
 * The books of one order from its lines and its payments rows. Only
 * SUCCEEDED rows count. A row in another currency than the order's is refused
 * (RangeError), as money.ts refuses adding two currencies, unless it moved
 * nothing (a void that only tombstoned a key).
 */
export function computeBooks(order: { currency: string; lines: readonly BooksOrderLine[] }, payments: readonly BooksPayment[]): OrderBooks {
  const lines: LineBooks[] = order.lines.map((l) => ({ productId: l.productId, quantity: l.quantity, amount: l.lineTotalAmount, ...noMoves() }));
  const byProduct = new Map(lines.map((l) => [l.productId, l]));
  const books: OrderBooks = { currency: order.currency, amount: lines.reduce((s, l) => s + l.amount, 0), lines, unallocated: noMoves(), ...noMoves() };

  for (const row of payments) {
    if (row.status !== 'SUCCEEDED') continue;
    if (row.amount !== 0 && row.currency !== order.currency) throw new RangeError(`a ${row.kind} of ${row.amount} ${row.currency} on an order in ${order.currency}`);
    const shares = sharesOf(row, order.lines);
    for (const move of movesOf[row.kind]) post(books, byProduct, move, row.amount, shares);
  }
  return books;
}

/** What breaks the rules in one set of moves; `what` names the order or the line. */
function movesProblems(what: string, m: MoneyMoves & { amount: number }, ended: boolean): string[] {
  const problems: string[] = [];
  for (const name of [...moveNames, 'amount'] as const) if (m[name] < 0) problems.push(`${what}: ${name} is negative (${m[name]})`);
  if (m.refunded > m.captured) problems.push(`${what}: refunded ${m.refunded} > captured ${m.captured}`);
  if (m.captured > m.authorised) problems.push(`${what}: captured ${m.captured} > authorised ${m.authorised}`);
  else if (m.captured + m.voided > m.authorised) problems.push(`${what}: captured ${m.captured} + voided ${m.voided} > authorised ${m.authorised}`);
  if (m.amount >= 0 && m.captured > m.amount) problems.push(`${what}: captured ${m.captured} > its total ${m.amount}`);
  if (ended && m.captured + m.voided !== m.authorised) {
    problems.push(`${what}: ended with captured ${m.captured} + voided ${m.voided} != authorised ${m.authorised}`);
  }
  return problems;
}

/**
 * Every way the books break the rules, per order and per line (empty when
 * they balance): nothing negative; refunded ≤ captured ≤ authorised;
 * captured + voided ≤ authorised; nothing captured beyond what the order (or
 * line) costs; every row's money allocated to lines; and once the order's
 * life has ended (nothing more will be captured or voided), captured + voided
 * = authorised. A renewal authorises the uncaptured remainder again and
 * voids it on the old authorisation, so these hold across renewals too.
 */
export function booksProblems(books: OrderBooks, { ended }: { ended: boolean }): string[] {
  const unallocated = moveNames.filter((name) => books.unallocated[name] !== 0).map((name) => `order: ${books.unallocated[name]} ${name} not allocated to its lines`);
  return [
    ...movesProblems('order', books, ended),
    ...books.lines.flatMap((line) => movesProblems(`line ${line.productId}`, line, ended)),
    ...unallocated,
  ];
}
