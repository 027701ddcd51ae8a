import { useState } from 'preact/hooks';
import { api, ok, type Schemas } from '../../api';
import { href } from '../../router';
import { codeWords, Form, Problem, shortId } from '../../ui';
import { OrderStatuses, type OrderStatus } from '../../../../domain/order-status';

export type AdminOrder = Schemas['AdminOrder'];
export type AdminOrderSummary = Schemas['AdminOrderSummary'];
export type Repair = AdminOrderSummary['repairs'][number];
export type { OrderStatus };
/** The statuses an operator filters by: the lifecycle's own list (domain/order-status.ts). */
export const ORDER_STATUSES: readonly OrderStatus[] = OrderStatuses;


const SECTIONS: { path: string; label: string }[] = [
  { path: '/console', label: 'Orders' },
  { path: '/console/attention', label: 'Needs attention' },
  { path: '/console/stock', label: 'Stock' },
  { path: '/console/returns', label: 'Returns' },
  { path: '/console/webhooks', label: 'Webhooks' },
];

/** The console's own navigation; the current section is marked for assistive technology too. */
export function ConsoleNav({ current }: { current: string }) {
  return (
    <nav aria-label="Console" class="console-nav">
      <ul>
        {SECTIONS.map((s) => (
          <li key={s.path}>
            <a href={href(s.path)} aria-current={s.path === current ? 'page' : undefined}>
              {s.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** A polite live region, always in the document, so that a change of its text is read out. */
export const Announcer = ({ message }: { message: string }) => (
  <div class="announce" role="status" aria-live="polite" aria-atomic="true">
    {message}
  </div>
);

export const REPAIR_LABELS: Record<Repair, string> = {
  RETRY_PAYMENT: 'Retry payment',
  RETRY_COMPENSATIONS: 'Retry compensations',
  CANCEL_SHIPMENTS: 'Cancel shipments',
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads every half second until `settled` says so or `withinMs` has passed; the last reading either way. */
export async function readUntil<T>(read: () => Promise<T>, settled: (value: T) => boolean, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  let value = await read();
  while (!settled(value) && Date.now() < deadline) {
    await sleep(500);
    value = await read();
  }
  return value;
}

export const readOrder = (id: string) => ok(api.GET('/api/v1/admin/orders/{id}', { params: { path: { id } } }));

/** How long an action waits for the order to leave NEEDS_ATTENTION before it says it still waits. */
const SETTLE_MS = 20_000;

/** Re-reads the order until it no longer waits for an operator (or SETTLE_MS passed). */
const settle = (id: string): Promise<AdminOrder> => readUntil(() => readOrder(id), (order) => order.status !== 'NEEDS_ATTENTION', SETTLE_MS);

async function request(id: string, repair: Repair, reason?: string): Promise<void> {
  const path = { params: { path: { id } } };
  if (repair === 'RETRY_PAYMENT') await ok(api.POST('/api/v1/admin/orders/{id}/retry-payment', { ...path, body: {} }));
  else if (repair === 'RETRY_COMPENSATIONS') await ok(api.POST('/api/v1/admin/orders/{id}/retry-compensations', { ...path, body: {} }));
  else await ok(api.POST('/api/v1/admin/orders/{id}/shipments/cancel', { ...path, body: reason ? { reason } : {} }));
}

/**
 * The repair actions of orders: one runs at a time per order; when the API accepted it,
 * the order is re-read until it leaves NEEDS_ATTENTION and the outcome is announced.
 */
export function useRepairs(onSettled: (order: AdminOrder) => void) {
  const [busy, setBusy] = useState<Record<string, Repair | undefined>>({});
  const [errors, setErrors] = useState<Record<string, unknown>>({});
  const [message, setMessage] = useState('');

  const run = async (id: string, repair: Repair, reason?: string) => {
    setBusy((b) => ({ ...b, [id]: repair }));
    setErrors((e) => ({ ...e, [id]: undefined }));
    setMessage(`Order ${shortId(id)}: ${REPAIR_LABELS[repair].toLowerCase()} sent, waiting for the order…`);
    try {
      await request(id, repair, reason);
      const order = await settle(id);
      setMessage(
        order.status === 'NEEDS_ATTENTION'
          ? `Order ${shortId(id)} still needs attention after ${SETTLE_MS / 1000} seconds${order.attention ? `: ${order.attention.message}` : ''}.`
          : `Order ${shortId(id)} resolved: now ${codeWords(order.status ?? 'unknown')}.`,
      );
      onSettled(order);
    } catch (err) {
      setErrors((e) => ({ ...e, [id]: err }));
      setMessage(`Order ${shortId(id)}: ${REPAIR_LABELS[repair].toLowerCase()} failed.`);
    } finally {
      setBusy((b) => ({ ...b, [id]: undefined }));
    }
  };
  return { busy, errors, message, run };
}

/** The repair buttons that apply to one order; cancelling shipments asks for confirmation (and a reason) first. */
export function RepairButtons({
  order,
  repairs,
}: {
  order: { id: string; repairs: Repair[] };
  repairs: ReturnType<typeof useRepairs>;
}) {
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState('');
  const running = repairs.busy[order.id];
  if (order.repairs.length === 0) return <p class="muted">No repair applies now.</p>;
  const reasonId = `cancel-reason-${order.id}`;
  return (
    <div class="repairs">
      <div class="row">
        {order.repairs.map((r) => (
          <button
            key={r}
            type="button"
            class={r === 'CANCEL_SHIPMENTS' ? 'secondary' : undefined}
            disabled={!!running}
            aria-describedby={`order-ref-${order.id}`}
            onClick={() => (r === 'CANCEL_SHIPMENTS' ? setConfirming(true) : void repairs.run(order.id, r))}
          >
            {running === r ? `${REPAIR_LABELS[r]}…` : REPAIR_LABELS[r]}
          </button>
        ))}
      </div>
      <span id={`order-ref-${order.id}`} class="visually-hidden">
        order {shortId(order.id)}
      </span>
      {confirming && (
        <Form
          class="panel confirm"
          onSubmit={() => {
            setConfirming(false);
            void repairs.run(order.id, 'CANCEL_SHIPMENTS', reason.trim() || undefined);
          }}
        >
          <p>Cancel every shipment of order {shortId(order.id)} still in the warehouse? Their stock goes back on sale and their amount is voided.</p>
          <div class="field">
            <label for={reasonId}>Reason (optional)</label>
            <input id={reasonId} value={reason} maxLength={500} onInput={(e) => setReason(e.currentTarget.value)} />
          </div>
          <div class="row">
            <button type="submit" class="danger">
              Confirm cancel shipments
            </button>
            <button type="button" class="secondary" onClick={() => setConfirming(false)}>
              Keep them
            </button>
          </div>
        </Form>
      )}
      <Problem error={repairs.errors[order.id]} />
    </div>
  );
}
