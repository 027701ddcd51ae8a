import { createHash } from 'node:crypto';
import { Prisma, type Db } from '../../prisma/client';
import { type PlaceOrderInput } from '../../temporal-config/place-order';

export interface StoredAnswer {
  status: number;
  body: unknown;
}

/**
 * A checkout_requests row. While the answer is unknown (responseStatus NULL)
 * responseBody holds the frozen order input, so every repeat — and a retry
 * after this process died mid-checkout — starts or joins the very same saga
 * with the very same lines and prices; then it holds the answer.
 */
export interface Claim {
  id: string;
  requestHash: string;
  orderId: string;
  input?: PlaceOrderInput;
  answer?: StoredAnswer;
}

/** Key order and whitespace do not make two bodies different. */
export function hashBody(body: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
        : v;
  return createHash('sha256').update(JSON.stringify(canonical(body))).digest('hex');
}

/**
 * How long a checkout's Idempotency-Key is replayed (Stripe keeps its keys
 * 24 h). Past it the key is a new request, and its row, which may hold the
 * frozen order input with the payment token and the shipping address, is deleted.
 */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60_000;
/** How often one API process deletes every expired row (at the next checkout). */
const SWEEP_EVERY_MS = 10 * 60_000;

type Row = { id: string; requestHash: string; orderId: string; responseStatus: number | null; responseBody: Prisma.JsonValue; createdAt: Date };

const toClaim = (row: Row): Claim =>
  row.responseStatus === null
    ? { id: row.id, requestHash: row.requestHash, orderId: row.orderId, input: (row.responseBody as { input?: PlaceOrderInput } | null)?.input }
    : { id: row.id, requestHash: row.requestHash, orderId: row.orderId, answer: { status: row.responseStatus, body: row.responseBody } };

const expired = (row: Row) => row.createdAt.getTime() <= Date.now() - IDEMPOTENCY_KEY_TTL_MS;

export function createIdempotencyStore(db: Db) {
  let sweptAt = 0;
  return {
    /** The key's live row; an expired one is deleted and the key is free again. */
    async find(customerId: string, key: string): Promise<Claim | undefined> {
      const row = await db.checkoutRequest.findUnique({ where: { customerId_idempotencyKey: { customerId, idempotencyKey: key } } });
      if (row && expired(row)) {
        await db.checkoutRequest.deleteMany({ where: { id: row.id, createdAt: row.createdAt } });
        return undefined;
      }
      return row ? toClaim(row) : undefined;
    },

    /** Deletes every expired row, so none keeps a payment token or an address past the TTL (also keys never used again). */
    async sweep(): Promise<number> {
      sweptAt = Date.now();
      const { count } = await db.checkoutRequest.deleteMany({ where: { createdAt: { lte: new Date(Date.now() - IDEMPOTENCY_KEY_TTL_MS) } } });
      return count;
    },

    /** The first request claims the key; a racing one gets the winner's row (the unique index decides). */
    async claim(customerId: string, key: string, requestHash: string, input: PlaceOrderInput): Promise<Claim> {
      if (Date.now() - sweptAt >= SWEEP_EVERY_MS) await this.sweep();
      try {
        const row = await db.checkoutRequest.create({
          data: { customerId, idempotencyKey: key, requestHash, orderId: input.orderId, responseBody: { input } as unknown as Prisma.InputJsonValue },
        });
        return toClaim(row);
      } catch (err) {
        if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') return (await this.find(customerId, key))!;
        throw err;
      }
    },

    /**
     * Stores the answer unless another request stored one first, and returns
     * whichever is stored, so racing repeats answer byte for byte the same.
     * A confirmed checkout empties the ordered products from the cart in the
     * same transaction.
     */
    async answer(claim: Claim, customerId: string, answer: StoredAnswer, emptyCart: string[] | undefined): Promise<StoredAnswer> {
      await db.$transaction(async (tx) => {
        const won = await tx.checkoutRequest.updateMany({
          where: { id: claim.id, responseStatus: null },
          data: { responseStatus: answer.status, responseBody: answer.body as Prisma.InputJsonValue },
        });
        if (won.count === 1 && emptyCart?.length) await tx.cartItem.deleteMany({ where: { customerId, productId: { in: emptyCart } } });
      });
      const row = await db.checkoutRequest.findUnique({ where: { id: claim.id } });
      // swept meanwhile (an outcome that took longer than the TTL): this answer is still the answer
      if (!row || row.responseStatus === null) return answer;
      return { status: row.responseStatus, body: row.responseBody };
    },
  };
}
export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
