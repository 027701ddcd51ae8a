import { useEffect, useState } from 'preact/hooks';
import { api, ok } from '../../api';
import { href, navigate } from '../../router';
import { codeWords, DateTime, Form, Loading, Money, Page, Pager, Problem, shortId, StatusBadge, Table, useCursorPages, useLoad, type Column } from '../../ui';
import { ConsoleNav, ORDER_STATUSES, type AdminOrderSummary, type OrderStatus } from './common';

const COLUMNS: Column<AdminOrderSummary>[] = [
  {
    head: 'Order',
    cell: (o) => (
      <a href={href(`/console/orders/${o.id}`)}>
        <code>{shortId(o.id)}</code>
        <span class="visually-hidden"> (order {o.id})</span>
      </a>
    ),
  },
  { head: 'Customer', cell: (o) => o.customerEmail ?? <span class="muted">{o.customerId}</span> },
  {
    head: 'Status',
    cell: (o) => (
      <>
        <StatusBadge status={o.status ?? 'UNKNOWN'} />
        {o.attention && <div class="small">{o.attention.code}</div>}
      </>
    ),
  },
  { head: 'Total', num: true, cell: (o) => <Money {...o.total} /> },
  { head: 'Lines', num: true, cell: (o) => o.lineCount },
  { head: 'Placed', cell: (o) => <DateTime at={o.createdAt} /> },
];

/** #/console: every customer's orders, by status and by what the search box finds, a page at a time. */
export function OrdersPage({ query }: { query: URLSearchParams }) {
  const status = (query.get('status') ?? '') as OrderStatus | '';
  const q = query.get('q') ?? '';
  const [draft, setDraft] = useState({ status, q });
  useEffect(() => setDraft({ status, q }), [status, q]);
  const pages = useCursorPages(`${status}|${q}`);
  const { data, error, loading } = useLoad(
    () =>
      ok(
        api.GET('/api/v1/admin/orders', {
          params: { query: { limit: 25, cursor: pages.cursor, status: status || undefined, q: q.trim() || undefined } },
        }),
      ),
    [status, q, pages.cursor],
  );

  return (
    <Page title="Orders">
      <ConsoleNav current="/console" />
      <Form class="row filters" role="search" aria-label="Find orders" onSubmit={() => navigate('/console', { status: draft.status || undefined, q: draft.q.trim() || undefined })}>
        <div class="field">
          <label for="orders-status">Status</label>
          <select id="orders-status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.currentTarget.value as OrderStatus | '' })}>
            <option value="">Any status</option>
            {ORDER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {codeWords(s)}
              </option>
            ))}
          </select>
        </div>
        <div class="field grow">
          <label for="orders-q">Search</label>
          <input
            id="orders-q"
            type="search"
            value={draft.q}
            maxLength={254}
            aria-describedby="orders-q-hint"
            onInput={(e) => setDraft({ ...draft, q: e.currentTarget.value })}
          />
          <small id="orders-q-hint" class="hint">
            An order id, the start of a customer's e-mail, or a tracking number
          </small>
        </div>
        <div class="field">
          <button type="submit">Show orders</button>
        </div>
      </Form>
      <Problem error={error} />
      {loading && !data ? (
        <Loading what="Loading orders" />
      ) : data ? (
        <>
          <p class="muted" role="status">
            {data.items.length === 0 ? 'No order matches.' : `Showing ${data.items.length} order${data.items.length === 1 ? '' : 's'}${status || q ? ' that match' : ''}, newest first.`}
          </p>
          {data.items.length > 0 && (
            <Table caption="Orders, newest first" hideCaption columns={COLUMNS} rows={data.items} rowKey={(o) => o.id} />
          )}
          <Pager label="Order pages" page={pages.page} nextCursor={data.nextCursor} onNext={pages.next} onPrevious={pages.previous} />
        </>
      ) : null}
    </Page>
  );
}
