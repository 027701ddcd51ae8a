import { api, ok } from '../../api';
import { MoneyLines, OrderItems, OrderReturns, OrderShipments, OrderTimeline } from '../../order-view';
import { DateTime, Loading, Money, Page, Problem, Section, shortId, StatusBadge, Table, useLoad, type Column } from '../../ui';
import { Announcer, ConsoleNav, readOrder, RepairButtons, useRepairs, type AdminOrder } from './common';

type Payment = AdminOrder['payments'][number];

const PAYMENT_COLUMNS: Column<Payment>[] = [
  { head: 'Kind', cell: (p) => p.kind },
  { head: 'Status', cell: (p) => p.status },
  { head: 'Amount', num: true, cell: (p) => <Money {...p.amount} /> },
  { head: 'For', cell: (p) => p.reference ?? '—' },
  { head: 'Decline', cell: (p) => p.declineCode ?? '—' },
  { head: 'When', cell: (p) => <DateTime at={p.createdAt} /> },
];

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

      <OrderItems order={order} reader="operator" />
      <Section id="money" title="Money">
        <MoneyLines money={order.money} reader="operator" />
        {order.payments.length > 0 && (
          <>
            <h3>Payments</h3>
            <Table columns={PAYMENT_COLUMNS} rows={order.payments} rowKey={(_, i) => i} />
          </>
        )}
      </Section>
      <OrderShipments order={order} reader="operator" />
      <OrderReturns order={order} reader="operator" />
      <OrderTimeline order={order} reader="operator" />
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
