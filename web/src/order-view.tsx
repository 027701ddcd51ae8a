import type { Schemas } from './api';
import { href } from './router';
import { codeWords, DateTime, formatMoney, humanize, Money, ProductLink, Section, StatusBadge, Table, type Column } from './ui';

/**
 * The sections of an order's page that the storefront and the operator console
 * both show: its items, its money per line, its shipments, its returns and its
 * timeline. `reader` says who reads them: a customer reads products by name
 * (linked to their pages) and codes in plain words; an operator reads SKUs,
 * product ids and the codes as the API sends them.
 */
export type Reader = 'customer' | 'operator';

type Order = Schemas['Order'];
type Item = Order['items'][number];
type MoneyLine = Order['money']['lines'][number];
type Shipment = Order['shipments'][number];
type Return = Order['returns'][number];

/** The order's money kinds, as the API keeps its books. */
export const MONEY_KINDS = ['authorised', 'captured', 'voided', 'refunded'] as const;
export type MoneyKind = (typeof MONEY_KINDS)[number];

/** The products' names by id, as the order's lines have them. */
export const productNames = (order: Order): Map<string, string> => new Map(order.items.map((i) => [i.productId, i.name]));

/**
 * "2 × Enamel camping mug, 1 × Gooseneck kettle": each line by its product's
 * name (by its id where `names` has none, or when there are no names), with
 * its inspection outcome when it has one.
 */
export const linesText = (
  lines: { productId: string; quantity: number; outcome?: string | null }[],
  names?: Map<string, string>,
  outcomeWords: (outcome: string) => string = (o) => o,
): string => lines.map((l) => `${l.quantity} × ${names?.get(l.productId) ?? l.productId}${l.outcome ? ` (${outcomeWords(l.outcome)})` : ''}`).join(', ');

export function OrderItems({ order, reader }: { order: Order; reader: Reader }) {
  const operator = reader === 'operator';
  const columns: Column<Item>[] = [
    {
      head: 'Product',
      cell: (i) =>
        operator ? (
          <>
            {i.name} <span class="muted">({i.productId})</span>
          </>
        ) : (
          <ProductLink id={i.productId} name={i.name} />
        ),
    },
    ...(operator ? [{ head: 'SKU', cell: (i: Item) => i.sku }] : []),
    { head: 'Quantity', num: true, cell: (i) => i.quantity },
    { head: 'Unit price', num: true, cell: (i) => <Money {...i.unitPrice} /> },
    { head: 'Line total', num: true, cell: (i) => <Money {...i.lineTotal} /> },
  ];
  return (
    <Section id="items" title="Items">
      <Table
        columns={columns}
        rows={order.items}
        rowKey={(i) => i.productId}
        foot={
          // an operator reads the total among the order's facts
          !operator && (
            <tr>
              <th scope="row" colSpan={columns.length - 1}>
                Order total
              </th>
              <td class="num total">
                <Money {...order.total} />
              </td>
            </tr>
          )
        }
      />
    </Section>
  );
}

/** The order's books per product: what was held, taken, given back (a customer reads the void as "Released"), and for an operator the order's totals. */
export function MoneyLines({ money, reader }: { money: Order['money']; reader: Reader }) {
  const customer = reader === 'customer';
  const fmt = (amount: number) => formatMoney(amount, money.currency);
  const label: Record<MoneyKind, string> = { authorised: 'Authorised', captured: 'Captured', voided: customer ? 'Released' : 'Voided', refunded: 'Refunded' };
  const columns: Column<MoneyLine>[] = [
    { head: customer ? 'Product' : 'Line', rowHeader: true, cell: (l) => l.name },
    ...(customer ? [{ head: 'Amount', num: true, cell: (l: MoneyLine) => fmt(l.amount) }] : []),
    ...MONEY_KINDS.map((kind): Column<MoneyLine> => ({ head: label[kind], num: true, cell: (l) => fmt(l[kind]) })),
  ];
  return (
    <Table
      caption={customer ? 'Per product' : undefined}
      columns={columns}
      rows={money.lines}
      rowKey={(l) => l.productId}
      foot={
        !customer && (
          <tr>
            <th scope="row">Order</th>
            {MONEY_KINDS.map((kind) => (
              <td key={kind} class="num">
                {fmt(money[kind])}
              </td>
            ))}
          </tr>
        )
      }
    />
  );
}

/** The parcels: a customer reads where each comes from and when to expect it; an operator reads each date apart. A customer sees no section until there is a parcel. */
export function OrderShipments({ order, reader }: { order: Order; reader: Reader }) {
  const customer = reader === 'customer';
  if (customer && order.shipments.length === 0) return null;
  const names = customer ? productNames(order) : undefined;
  // a parcel not yet handed over is, in a customer's words, in the warehouse
  const status = (s: Shipment) => <StatusBadge status={customer && s.status === 'CREATED' ? 'IN_WAREHOUSE' : s.status} />;
  const contents = (s: Shipment) => linesText(s.items, names);
  const tracking = (s: Shipment) => <code>{s.trackingNumber}</code>;
  const columns: Column<Shipment>[] = customer
    ? [
        { head: 'From', cell: (s) => s.warehouse },
        {
          head: 'Carrier and tracking',
          cell: (s) => (
            <>
              {s.carrier} {tracking(s)}
            </>
          ),
        },
        { head: 'Status', cell: status },
        { head: 'Contents', cell: contents },
        {
          head: 'Dates',
          cell: (s) => (
            <>
              {s.handedOverAt ? (
                <>
                  Handed over <DateTime at={s.handedOverAt} />
                </>
              ) : s.status === 'CANCELLED' ? (
                '—'
              ) : (
                `Estimated ${s.estimatedDeliveryDays} day(s) in transit`
              )}
              {s.deliveredAt && (
                <>
                  <br />
                  Delivered <DateTime at={s.deliveredAt} />
                </>
              )}
            </>
          ),
        },
      ]
    : [
        { head: 'Tracking number', cell: tracking },
        { head: 'Warehouse', cell: (s) => s.warehouse },
        { head: 'Carrier', cell: (s) => s.carrier },
        { head: 'Status', cell: status },
        { head: 'Items', cell: contents },
        { head: 'Handed over', cell: (s) => <DateTime at={s.handedOverAt} /> },
        { head: 'Delivered', cell: (s) => <DateTime at={s.deliveredAt} /> },
      ];
  return (
    <Section id="ship" title="Shipments">
      {order.shipments.length === 0 ? (
        <p class="muted">No shipment planned yet.</p>
      ) : (
        <Table columns={columns} rows={order.shipments} rowKey={(s) => s.trackingNumber} />
      )}
    </Section>
  );
}

/** The order's returns: a customer reads where to send each and what came back; an operator reads its id, reason and products, and where to work on it. */
export function OrderReturns({ order, reader }: { order: Order; reader: Reader }) {
  const customer = reader === 'customer';
  if (customer && order.returns.length === 0) return null;
  const names = customer ? productNames(order) : undefined;
  const refunded = (r: Return) => formatMoney(r.refundAmount, r.currency);
  return (
    <Section id="returns" title="Returns">
      {order.returns.length === 0 ? (
        <p class="muted">No return.</p>
      ) : (
        <ul class="plain">
          {order.returns.map((r) => (
            <li key={r.id} class="card">
              {customer ? (
                <>
                  <p>
                    <StatusBadge status={r.status} /> requested <DateTime at={r.requestedAt} />; send with tracking <code>{r.trackingNumber}</code>
                    {r.receiveBy && (
                      <>
                        {' '}
                        by <DateTime at={r.receiveBy} />
                      </>
                    )}
                  </p>
                  <p>
                    {linesText(r.lines, names, humanize)} · refunded {refunded(r)}
                  </p>
                </>
              ) : (
                <>
                  <h3>
                    Return <code>{r.id}</code> <StatusBadge status={r.status} />
                  </h3>
                  <p>
                    {r.reason} — {linesText(r.lines)}; refunded {refunded(r)}; parcel <code>{r.trackingNumber}</code>
                  </p>
                  {(r.status === 'REQUESTED' || r.status === 'RECEIVED') && <a href={href('/console/returns', { status: r.status })}>Work on it in Returns</a>}
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

/** An event's detail as "key: value, …" (an operator reads it under the event). */
const detailText = (detail: unknown): string => {
  if (detail === undefined || detail === null) return '';
  const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  if (typeof detail !== 'object') return text(detail);
  const entries = Object.entries(detail as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.map(([k, v]) => `${k}: ${text(v)}`).join(', ');
};

/** What happened to the order, oldest first. */
/**
 * What a customer is told of each timeline event, in their words; the saga's
 * own steps (stock reserved and committed, compensations, notifications,
 * retries) are the operator's business and stay off their timeline.
 */
const CUSTOMER_EVENTS: Readonly<Record<string, string>> = {
  ORDER_PLACED: 'Order placed',
  PAYMENT_AUTHORISED: 'Payment approved: the amount is held on your card',
  PAYMENT_CHARGED: 'Payment taken',
  ORDER_CONFIRMED: 'Order confirmed',
  SHIPMENTS_PLANNED: 'Parcels planned',
  SHIPMENT_HANDED_OVER: 'A parcel was handed to the carrier',
  SHIPMENT_DELIVERED: 'A parcel was delivered',
  SHIPMENT_CANCELLED: 'A parcel was cancelled',
  DELIVERY_OVERDUE: 'A parcel is late: we are looking into it',
  RETURN_REQUESTED: 'Return requested',
  RETURN_RECEIVED: 'Your returned parcel arrived',
  RETURN_LAPSED: 'A return was not sent back in time',
  RETURNED: 'Return completed',
  STATUS_CHANGED: 'Now',
};

export function OrderTimeline({ order, reader }: { order: Order; reader: Reader }) {
  const events = reader === 'customer' ? order.timeline.filter((e) => e.type in CUSTOMER_EVENTS) : order.timeline;
  return (
    <Section id="timeline" title="Timeline">
      <ol class="timeline">
        {events.map((e, i) => (
          <li key={i}>
            <DateTime at={e.occurredAt} />
            {reader === 'customer' ? (
              <>
                {CUSTOMER_EVENTS[e.type]}
                {e.status && (
                  <>
                    {' '}
                    <StatusBadge status={e.status} />
                  </>
                )}
              </>
            ) : (
              <>
                {' '}
                <strong>{codeWords(e.type)}</strong>
                {e.status && <span class="muted"> → {codeWords(e.status)}</span>}
                {detailText(e.detail) && <div class="small muted">{detailText(e.detail)}</div>}
              </>
            )}
          </li>
        ))}
      </ol>
    </Section>
  );
}
