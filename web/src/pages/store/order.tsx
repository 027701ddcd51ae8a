import { useEffect, useRef, useState } from 'preact/hooks';
import { isCancellable, type OrderStatus } from '../../../../domain/order-status';
import { api, ok, type Schemas } from '../../api';
import { href } from '../../router';
import { linesText, MONEY_KINDS, MoneyLines, OrderItems, OrderReturns, OrderShipments, OrderTimeline, productNames, type MoneyKind } from '../../order-view';
import { Form, formatMoney, humanize, LiveNotice, Loading, Page, Problem, Section, shortId, StatusBadge, useAction } from '../../ui';
import { TextField } from './parts';

type Order = Schemas['Order'];

/** One message of GET /api/v1/orders/{id}/events (api/orders/orders.routes.ts OrderEvent). */
interface OrderEvent {
  id: string;
  sequence: number;
  type: string;
  status: OrderStatus | null;
  occurredAt: string;
}

type StreamState = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'closed';

/**
 * Follows the order's Server-Sent Events. The browser's EventSource sends the
 * session cookie and, after a dropped connection, resumes with Last-Event-ID
 * by itself. `onEvent` runs for every event; the stream is closed on `end`
 * (the order is over) so that EventSource does not reconnect.
 */
function useOrderStream(orderId: string, onEvent: (e: OrderEvent | undefined) => void): { state: StreamState; last?: OrderEvent; reconnect: () => void } {
  const [state, setState] = useState<StreamState>('connecting');
  const [last, setLast] = useState<OrderEvent | undefined>(undefined);
  const [round, setRound] = useState(0);
  const handler = useRef(onEvent);
  handler.current = onEvent;

  useEffect(() => {
    setState('connecting');
    const source = new EventSource(`/api/v1/orders/${encodeURIComponent(orderId)}/events`);
    source.onopen = () => setState('live');
    source.onmessage = (message: MessageEvent<string>) => {
      try {
        const event = JSON.parse(message.data) as OrderEvent;
        setLast(event);
        handler.current(event);
      } catch {
        handler.current(undefined);
      }
    };
    source.addEventListener('end', () => {
      source.close();
      setState('ended');
      handler.current(undefined);
    });
    source.onerror = () => {
      // CONNECTING: EventSource retries by itself; CLOSED: it was refused (too many streams, session gone)
      setState(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
    };
    return () => source.close();
  }, [orderId, round]);

  return { state, last, reconnect: () => setRound((r) => r + 1) };
}

/**
 * The order, read again whenever its stream says something happened; one
 * read at a time, and one more after it when events came in meanwhile (the
 * stream replays the whole timeline at once when it opens).
 */
function useLiveOrder(orderId: string) {
  const [order, setOrder] = useState<Order | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const reading = useRef<{ busy: boolean; again: boolean }>({ busy: false, again: false });
  const current = useRef(orderId);
  current.current = orderId;

  const read = () => {
    const r = reading.current;
    if (r.busy) {
      r.again = true;
      return;
    }
    r.busy = true;
    r.again = false;
    const id = orderId;
    ok(api.GET('/api/v1/orders/{id}', { params: { path: { id } } })).then(
      (o) => {
        if (current.current !== id) return;
        setOrder(o);
        setError(undefined);
      },
      (err: unknown) => current.current === id && setError(err),
    ).finally(() => {
      r.busy = false;
      if (r.again) read();
    });
  };

  useEffect(() => {
    setOrder(undefined);
    setError(undefined);
    read();
  }, [orderId]);

  const stream = useOrderStream(orderId, () => read());
  return { order, error, stream, read };
}

const STREAM_WORDS: Record<StreamState, string> = {
  connecting: 'Connecting to live updates…',
  live: 'Live: this page updates by itself',
  reconnecting: 'Live updates interrupted, reconnecting…',
  ended: 'This order is finished: no more updates',
  closed: 'Live updates are off',
};

function LiveIndicator({ state, last, reconnect }: { state: StreamState; last?: OrderEvent; reconnect: () => void }) {
  return (
    <div class={`live live-${state}`}>
      <p aria-live="polite" aria-atomic="true" id="live-status">
        <span class="dot" aria-hidden="true" />
        {STREAM_WORDS[state]}
        {last && (
          <span class="muted">
            {' '}
            · latest: {humanize(last.type)}
            {last.status ? ` (${humanize(last.status)})` : ''}
          </span>
        )}
      </p>
      {state === 'closed' && (
        <button type="button" class="secondary" onClick={reconnect}>
          Reconnect live updates
        </button>
      )}
    </div>
  );
}

/** Keyed by the order: another order's page starts afresh. */
export const OrderPage = (props: { params: Record<string, string>; query: URLSearchParams }) => <OrderView key={props.params.id} {...props} />;

function OrderView({ params, query }: { params: Record<string, string>; query: URLSearchParams }) {
  const { order, error, stream, read } = useLiveOrder(params.id);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  /** An action was accepted: say so, and read the order again. */
  const done = (message: string) => {
    setNotice(message);
    read();
  };

  if (!order) {
    if (error) {
      return (
        <Page title="Order not found">
          <Problem error={error} />
          <p>
            <a href={href('/orders')}>Back to your orders</a>
          </p>
        </Page>
      );
    }
    return <Loading what="Loading the order" />;
  }

  const placed = query.get('placed');
  return (
    <Page title={`Order ${shortId(order.id)}`}>
      <div class="order-head">
        <p class="order-status">
          Status: <StatusBadge status={order.status} />
        </p>
        <LiveIndicator {...stream} />
      </div>
      {error !== undefined && <Problem error={error} />}
      {placed && order.status !== 'FAILED' && order.status !== 'CANCELLED' && (
        <p class="notice">Thank you: your order is placed. We will e-mail you as it moves along.</p>
      )}
      {order.status === 'PENDING' && (
        <p class="notice pending">Your bank is still confirming the payment. This page updates by itself as soon as it answers.</p>
      )}
      <Outcome order={order} />
      {/* outside the actions' panel, which goes once nothing is left to do: what was just done stays said */}
      <LiveNotice text={notice} />
      <Actions order={order} onDone={done} />
      <OrderItems order={order} reader="customer" />
      <MoneySection order={order} />
      <OrderShipments order={order} reader="customer" />
      <OrderReturns order={order} reader="customer" />
      <OrderTimeline order={order} reader="customer" />
      <Section id="addr" title="Shipping to">
        <address>
          {order.shippingAddress.name}
          <br />
          {order.shippingAddress.line1}
          {order.shippingAddress.line2 && (
            <>
              <br />
              {order.shippingAddress.line2}
            </>
          )}
          <br />
          {order.shippingAddress.postalCode} {order.shippingAddress.city}, {order.shippingAddress.country}
        </address>
      </Section>
      <p>
        <a href={href('/orders')}>All your orders</a>
      </p>
    </Page>
  );
}

function Outcome({ order }: { order: Order }) {
  if (order.status === 'FAILED') {
    return (
      <div class="problem" role="alert">
        <strong>{order.failureCode === 'PAYMENT_DECLINED' ? 'Your payment was declined' : 'This order could not be placed'}</strong>
        {order.failureReason && <span>: {order.failureReason}</span>}
        {order.failureCode && <span class="code"> ({order.failureCode})</span>}
        <p>
          Nothing was charged, and your cart still holds its items. <a href={href('/checkout')}>Try again at checkout</a>.
        </p>
      </div>
    );
  }
  if (order.status === 'CANCELLED') {
    return (
      <p class="notice">
        This order is cancelled{order.cancelReason ? ` (${order.cancelReason})` : ''}. What was held on your card is given back: see Payment below.
      </p>
    );
  }
  if (order.status === 'NEEDS_ATTENTION') {
    return <p class="warning-box">Our team is looking into a problem with this order{order.failureReason ? `: ${order.failureReason}` : ''}. Nothing is needed from you.</p>;
  }
  return null;
}

/** What the customer may do now, by the API's own rules (domain/order-status.ts and the shipments' states). */
/** Each action reports what it did with `onDone` (the page says it, outside this panel). */
type Done = (message: string) => void;

function Actions({ order, onDone }: { order: Order; onDone: Done }) {
  const status = order.status;
  if (!status) return null;
  const waiting = order.shipments.filter((s) => s.status === 'CREATED');
  const canCancel = isCancellable(status) || (status === 'NEEDS_ATTENTION' && waiting.length > 0);
  const canCancelShipments = waiting.length > 0 && (status === 'PROCESSING' || status === 'PARTIALLY_SHIPPED' || status === 'NEEDS_ATTENTION');
  const returnable = returnableLines(order);
  if (!canCancel && !canCancelShipments && returnable.length === 0) return null;
  return (
    <Section id="actions" title="What you can do" class="panel">
      {canCancel && <CancelOrder order={order} onDone={onDone} />}
      {canCancelShipments && order.shipments.length > 1 && <CancelShipments order={order} waiting={waiting} onDone={onDone} />}
      {returnable.length > 0 && <RequestReturn order={order} lines={returnable} onDone={onDone} />}
    </Section>
  );
}

function CancelOrder({ order, onDone }: { order: Order; onDone: Done }) {
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const cancel = useAction(async () => {
    const answer = await ok(api.POST('/api/v1/orders/{id}/cancel', { params: { path: { id: order.id } }, body: reason ? { reason } : {} }));
    setAsking(false);
    onDone(`Cancellation accepted (the order was ${humanize(answer.status)}). Your money is being given back; this page shows it as it happens.`);
  });
  const shipped = order.shipments.some((s) => s.status !== 'CREATED' && s.status !== 'CANCELLED');
  return (
    <div class="action">
      <h3>Cancel the order</h3>
      <p class="muted">
        {shipped
          ? 'Cancels everything the carrier does not have yet; parcels already on their way still arrive.'
          : 'Possible until the carrier has the parcels. What is held on your card is released.'}
      </p>
      <Problem error={cancel.error} />
      {!asking ? (
        <button type="button" class="danger" onClick={() => setAsking(true)}>
          Cancel order…
        </button>
      ) : (
        <Form noValidate onSubmit={() => void cancel.go()}>
          <TextField id="cancel-reason" label="Reason (optional)" maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          <div class="row">
            <button type="submit" class="danger" disabled={cancel.busy}>
              {cancel.busy ? 'Cancelling…' : 'Confirm cancellation'}
            </button>
            <button type="button" class="secondary" onClick={() => setAsking(false)}>
              Keep the order
            </button>
          </div>
        </Form>
      )}
    </div>
  );
}

function CancelShipments({ order, waiting, onDone }: { order: Order; waiting: Order['shipments']; onDone: Done }) {
  const [chosen, setChosen] = useState<string[]>(waiting.map((s) => s.trackingNumber));
  const names = productNames(order);
  // only what is still in the warehouse: a chosen shipment may have been handed over since
  const selected = chosen.filter((t) => waiting.some((s) => s.trackingNumber === t));
  const cancel = useAction(async () => {
    const answer = await ok(api.POST('/api/v1/orders/{id}/shipments/cancel', { params: { path: { id: order.id } }, body: { trackingNumbers: selected } }));
    onDone(`${answer.shipments.filter((s) => s.status === 'CANCELLED').length} shipment(s) cancelled; their amount is released.`);
  });
  return (
    <div class="action">
      <h3>Cancel shipments still in the warehouse</h3>
      <Problem error={cancel.error} />
      <Form noValidate onSubmit={() => void cancel.go()}>
        <fieldset>
          <legend>Shipments not yet handed to the carrier</legend>
          {waiting.map((s) => (
            <div class="choice" key={s.trackingNumber}>
              <input
                type="checkbox"
                id={`ship-${s.trackingNumber}`}
                checked={chosen.includes(s.trackingNumber)}
                onChange={(e) =>
                  setChosen(e.currentTarget.checked ? [...chosen, s.trackingNumber] : chosen.filter((t) => t !== s.trackingNumber))
                }
              />
              <label for={`ship-${s.trackingNumber}`}>
                From {s.warehouse} ({s.trackingNumber}): {linesText(s.items, names)}
              </label>
            </div>
          ))}
        </fieldset>
        <button type="submit" class="danger" disabled={cancel.busy || selected.length === 0}>
          {cancel.busy ? 'Cancelling…' : 'Cancel selected shipments'}
        </button>
      </Form>
    </div>
  );
}

interface Returnable {
  productId: string;
  name: string;
  max: number;
}

/** Delivered units not yet taken by an earlier return (a lapsed return gave them back to the customer). */
function returnableLines(order: Order): Returnable[] {
  const delivered = new Map<string, number>();
  for (const s of order.shipments) {
    if (s.status !== 'DELIVERED') continue;
    for (const i of s.items) delivered.set(i.productId, (delivered.get(i.productId) ?? 0) + i.quantity);
  }
  for (const r of order.returns) {
    if (r.status === 'LAPSED') continue;
    for (const l of r.lines) delivered.set(l.productId, (delivered.get(l.productId) ?? 0) - l.quantity);
  }
  return order.items
    .map((i) => ({ productId: i.productId, name: i.name, max: delivered.get(i.productId) ?? 0 }))
    .filter((l) => l.max > 0);
}

function RequestReturn({ order, lines, onDone }: { order: Order; lines: Returnable[]; onDone: Done }) {
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const [reason, setReason] = useState('');
  const picked = Object.entries(chosen).map(([productId, quantity]) => ({ productId, quantity: Number(quantity) }));
  const send = useAction(async () => {
    const answer = await ok(api.POST('/api/v1/orders/{id}/returns', { params: { path: { id: order.id } }, body: { reason, lines: picked } }));
    setChosen({});
    setReason('');
    onDone(
      'trackingNumber' in answer
        ? `Return requested. Send the parcel with tracking number ${answer.trackingNumber}; you are refunded once the warehouse has checked it.`
        : 'Return requested; you are refunded once the warehouse has the goods.',
    );
  });
  return (
    <div class="action">
      <h3>Return products</h3>
      <Problem error={send.error} />
      <Form noValidate onSubmit={() => void send.go()}>
        <fieldset>
          <legend>Products to return</legend>
          {lines.map((l) => {
            const on = chosen[l.productId] !== undefined;
            return (
              <div class="row return-line" key={l.productId}>
                <div class="choice">
                  <input
                    type="checkbox"
                    id={`return-${l.productId}`}
                    checked={on}
                    onChange={(e) => {
                      const next = { ...chosen };
                      if (e.currentTarget.checked) next[l.productId] = String(l.max);
                      else delete next[l.productId];
                      setChosen(next);
                    }}
                  />
                  <label for={`return-${l.productId}`}>Return {l.name}</label>
                </div>
                <TextField
                  id={`return-qty-${l.productId}`}
                  label={`Quantity of ${l.name}`}
                  type="number"
                  min={1}
                  max={l.max}
                  class="short"
                  hint={`up to ${l.max}`}
                  disabled={!on}
                  value={chosen[l.productId] ?? ''}
                  onInput={(e) => setChosen({ ...chosen, [l.productId]: e.currentTarget.value })}
                />
              </div>
            );
          })}
        </fieldset>
        <TextField id="return-reason" label="Why are you returning them?" required maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        <button type="submit" disabled={send.busy || picked.length === 0}>
          {send.busy ? 'Requesting…' : 'Request return'}
        </button>
      </Form>
    </div>
  );
}

/** Money summary labels, in a customer's words, by the API's money kinds. */
const SUMMARY: Record<MoneyKind, string> = {
  authorised: 'Authorised (held on your card)',
  captured: 'Captured (charged)',
  voided: 'Released (hold cancelled, never charged)',
  refunded: 'Refunded',
};

/** The order's books as the API keeps them: held (authorised), taken (captured), released (voided), refunded. */
function MoneySection({ order }: { order: Order }) {
  const m = order.money;
  const fmt = (amount: number) => formatMoney(amount, m.currency);
  const givenBack = m.voided + m.refunded;
  return (
    <Section id="money" title="Payment">
      <dl class="money-summary">
        {MONEY_KINDS.map((kind) => (
          <div key={kind}>
            <dt>{SUMMARY[kind]}</dt>
            <dd data-money={kind}>{fmt(m[kind])}</dd>
          </div>
        ))}
      </dl>
      {givenBack > 0 && (
        <p class="notice" id="money-back">
          Given back to your card: <strong>{fmt(givenBack)}</strong>
          {m.voided > 0 && m.refunded > 0 ? ` (${fmt(m.voided)} released, ${fmt(m.refunded)} refunded)` : m.voided > 0 ? ' (the hold was released)' : ' (refunded)'}.
        </p>
      )}
      {m.lines.length > 1 && <MoneyLines money={m} reader="customer" />}
    </Section>
  );
}
