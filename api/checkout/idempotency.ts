import { createHash } from 'node:crypto';
import type { PlaceOrderInput } from '../../domain/order';
import { Prisma, type Db } from '../../prisma/client';

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

type Row = { id: string; requestHash: string; orderId: string; responseStatus: number | null; responseBody: Prisma.JsonValue };

const toClaim = (row: Row): Claim =>
  row.responseStatus === null
    ? { id: row.id, requestHash: row.requestHash, orderId: row.orderId, input: (row.responseBody as { input?: PlaceOrderInput } | null)?.input }
    : { id: row.id, requestHash: row.requestHash, orderId: row.orderId, answer: { status: row.responseStatus, body: row.responseBody } };

export function createIdempotencyStore(db: Db) {
  return {
    async find(customerId: string, key: string): Promise<Claim | undefined> {
      const row = await db.checkoutRequest.findUnique({ where: { customerId_idempotencyKey: { customerId, idempotencyKey: key } } });
      return row ? toClaim(row) : undefined;
    },

    /** The first request claims the key; a racing one gets the winner's row (the unique index decides). */
    async claim(customerId: string, key: string, requestHash: string, input: PlaceOrderInput): Promise<Claim> {
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
      const row = await db.checkoutRequest.findUniqueOrThrow({ where: { id: claim.id } });
      return { status: row.responseStatus!, body: row.responseBody };
    },
  };
}
export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
