import { api, ok } from '../../api';
import { href } from '../../router';
import { formatMoney, Loading, Money, Page, Problem, StatusBadge, useLoad } from '../../ui';
import { Announcer, ConsoleNav, DateTime, readOrder, RepairButtons, shortId, useRepairs, type AdminOrder } from './common';

const detailText = (detail: unknown): string => {
  if (detail === undefined || detail === null) return '';
  const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  if (typeof detail !== 'object') return text(detail);
  const entries = Object.entries(detail as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.map(([k, v]) => `${k}: ${text(v)}`).join(', ');
};

/** The link to the order's saga in the Temporal Web UI, when the API knows where that is. */
function TemporalLink({ workflowId }: { workflowId: string | undefined }) {
  const { data } = useLoad(() => ok(api.GET('/api/v1/admin/settings')), []);
  const ui = data?.temporalUi;
  if (!ui?.url || !workflowId) return null;
  const url = `${ui.url}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return (
    <a class="button secondary" href={url} target="_blank" rel="noopener noreferrer">
      Open workflow in Temporal Web UI<span class="visually-hidden"> (opens in a new tab)</span>
    </a>
  );
}

function Body({ order, repairs }: { order: AdminOrder; repairs: ReturnType<typeof useRepairs> }) {
  const cur = order.money.currency;
  const m = (amount: number) => formatMoney(amount, cur);
  return (
    <>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={order.status ?? 'UNKNOWN'} />
        </dd>
        <dt>Order id</dt>
        <dd>
          <code>{order.id}</code>
        </dd>
        <dt>Customer</dt>
        <dd>{order.customerEmail ?? order.customerId}</dd>
        <dt>Placed</dt>
        <dd>
          <DateTime at={order.createdAt} />
        </dd>
        <dt>Total</dt>
        <dd>
          <Money {...order.total} />
        </dd>
        <dt>Workflow</dt>
        <dd>
          <code>{order.workflowId}</code>
        </dd>
        {order.failureCode && (
          <>
            <dt>Failure</dt>
            <dd>
              <code>{order.failureCode}</code> {order.failureReason}
            </dd>
          </>
        )}
        {order.cancelReason && (
          <>
            <dt>Cancel reason</dt>
            <dd>{order.cancelReason}</dd>
          </>
        )}
      </dl>
      <TemporalLink workflowId={order.workflowId} />

      <h2>Attention and repairs</h2>
      {order.attention ? (
        <p class="problem-text">
          Waiting since <DateTime at={order.attention.at} />: <code>{order.attention.code}</code> {order.attention.message}
        </p>
      ) : (
        <p class="muted">The order does not wait for an operator.</p>
      )}
      <RepairButtons order={order} repairs={repairs} />

      <h2>Items</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Product</th>
              <th scope="col">SKU</th>
              <th scope="col" class="num">Quantity</th>
              <th scope="col" class="num">Unit price</th>
              <th scope="col" class="num">Line total</th>
            </tr>
          </thead>
          <tbody>
            {order.items.map((i) => (
              <tr key={i.productId}>
                <td>
                  {i.name} <span class="muted">({i.productId})</span>
                </td>
                <td>{i.sku}</td>
                <td class="num">{i.quantity}</td>
                <td class="num">
                  <Money {...i.unitPrice} />
                </td>
                <td class="num">
                  <Money {...i.lineTotal} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2>Money</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col" class="num">Authorised</th>
              <th scope="col" class="num">Captured</th>
              <th scope="col" class="num">Voided</th>
              <th scope="col" class="num">Refunded</th>
            </tr>
          </thead>
          <tbody>
            {order.money.lines.map((l) => (
              <tr key={l.productId}>
                <th scope="row">{l.name}</th>
                <td class="num">{m(l.authorised)}</td>
                <td class="num">{m(l.captured)}</td>
                <td class="num">{m(l.voided)}</td>
                <td class="num">{m(l.refunded)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">Order</th>
              <td class="num">{m(order.money.authorised)}</td>
              <td class="num">{m(order.money.captured)}</td>
              <td class="num">{m(order.money.voided)}</td>
              <td class="num">{m(order.money.refunded)}</td>
            </tr>
          </tfoot>
        </table>
      </div>
      {order.payments.length > 0 && (
        <>
          <h3>Payments</h3>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">Amount</th>
                  <th scope="col">For</th>
                  <th scope="col">Decline</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {order.payments.map((p, i) => (
                  <tr key={i}>
                    <td>{p.kind}</td>
                    <td>{p.status}</td>
                    <td class="num">
                      <Money {...p.amount} />
                    </td>
                    <td>{p.reference ?? '—'}</td>
                    <td>{p.declineCode ?? '—'}</td>
                    <td>
                      <DateTime at={p.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}

      <h2>Shipments</h2>
      {order.shipments.length === 0 ? (
        <p class="muted">No shipment planned yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Tracking number</th>
                <th scope="col">Warehouse</th>
                <th scope="col">Carrier</th>
                <th scope="col">Status</th>
                <th scope="col">Items</th>
                <th scope="col">Handed over</th>
                <th scope="col">Delivered</th>
              </tr>
            </thead>
            <tbody>
              {order.shipments.map((s) => (
                <tr key={s.trackingNumber}>
                  <td>
                    <code>{s.trackingNumber}</code>
                  </td>
                  <td>{s.warehouse}</td>
                  <td>{s.carrier}</td>
                  <td>
                    <StatusBadge status={s.status} />
                  </td>
                  <td>{s.items.map((i) => `${i.quantity} × ${i.productId}`).join(', ')}</td>
                  <td>
                    <DateTime at={s.handedOverAt} />
                  </td>
                  <td>
                    <DateTime at={s.deliveredAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Returns</h2>
      {order.returns.length === 0 ? (
        <p class="muted">No return.</p>
      ) : (
        <ul class="plain">
          {order.returns.map((r) => (
            <li key={r.id} class="card">
              <h3>
                Return <code>{r.id}</code> <StatusBadge status={r.status} />
              </h3>
              <p>
                {r.reason} — {r.lines.map((l) => `${l.quantity} × ${l.productId}${l.outcome ? ` (${l.outcome})` : ''}`).join(', ')}; refunded {m(r.refundAmount)}; parcel{' '}
                <code>{r.trackingNumber}</code>
              </p>
              {(r.status === 'REQUESTED' || r.status === 'RECEIVED') && <a href={href('/console/returns', { status: r.status })}>Work on it in Returns</a>}
            </li>
          ))}
        </ul>
      )}

      <h2>Timeline</h2>
      <ol class="timeline">
        {order.timeline.map((e, i) => (
          <li key={i}>
            <DateTime at={e.occurredAt} /> <strong>{e.type.replace(/_/g, ' ')}</strong>
            {e.status && <span class="muted"> → {e.status.replace(/_/g, ' ')}</span>}
            {detailText(e.detail) && <div class="small muted">{detailText(e.detail)}</div>}
          </li>
        ))}
      </ol>
    </>
  );
}

/** #/console/orders/:id: one order as an operator sees it, with the repairs that apply. */
export function OrderPage({ params }: { params: Record<string, string> }) {
  const { data, error, loading, reload } = useLoad(() => readOrder(params.id), [params.id]);
  const repairs = useRepairs(() => reload());
  return (
    <Page
      title={`Order ${shortId(params.id)}`}
      actions={
        <button type="button" class="secondary" onClick={reload} disabled={loading}>
          Refresh
        </button>
      }
    >
      <ConsoleNav current="" />
      <Announcer message={repairs.message} />
      <Problem error={error} />
      {loading && !data ? <Loading what="Loading the order" /> : data ? <Body order={data} repairs={repairs} /> : null}
    </Page>
  );
}
