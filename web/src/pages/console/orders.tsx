import { useEffect, useState } from 'preact/hooks';
import { api, ok } from '../../api';
import { href, navigate } from '../../router';
import { Loading, Money, Page, Problem, StatusBadge, useLoad } from '../../ui';
import { ConsoleNav, DateTime, ORDER_STATUSES, Pager, shortId, useCursorPages, type OrderStatus } from './common';

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
      <form
        class="row filters"
        role="search"
        aria-label="Find orders"
        onSubmit={(e) => {
          e.preventDefault();
          navigate('/console', { status: draft.status || undefined, q: draft.q.trim() || undefined });
        }}
      >
        <div class="field">
          <label for="orders-status">Status</label>
          <select id="orders-status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.currentTarget.value as OrderStatus | '' })}>
            <option value="">Any status</option>
            {ORDER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace(/_/g, ' ')}
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
      </form>
      <Problem error={error} />
      {loading && !data ? (
        <Loading what="Loading orders" />
      ) : data ? (
        <>
          <p class="muted" role="status">
            {data.items.length === 0 ? 'No order matches.' : `Showing ${data.items.length} order${data.items.length === 1 ? '' : 's'}${status || q ? ' that match' : ''}, newest first.`}
          </p>
          {data.items.length > 0 && (
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Orders, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Order</th>
                    <th scope="col">Customer</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">Total</th>
                    <th scope="col" class="num">Lines</th>
                    <th scope="col">Placed</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((o) => (
                    <tr key={o.id}>
                      <td>
                        <a href={href(`/console/orders/${o.id}`)}>
                          <code>{shortId(o.id)}</code>
                          <span class="visually-hidden"> (order {o.id})</span>
                        </a>
                      </td>
                      <td>{o.customerEmail ?? <span class="muted">{o.customerId}</span>}</td>
                      <td>
                        <StatusBadge status={o.status ?? 'UNKNOWN'} />
                        {o.attention && <div class="small">{o.attention.code}</div>}
                      </td>
                      <td class="num">
                        <Money {...o.total} />
                      </td>
                      <td class="num">{o.lineCount}</td>
                      <td>
                        <DateTime at={o.createdAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager label="Order pages" page={pages.page} nextCursor={data.nextCursor} onNext={pages.next} onPrevious={pages.previous} />
        </>
      ) : null}
    </Page>
  );
}
