import { api, ok } from '../../api';
import { href } from '../../router';
import { Loading, Money, Page, Problem, StatusBadge, useLoad } from '../../ui';
import { formatDate } from './parts';

const PAGE_SIZE = 10;

export function OrdersPage({ query }: { query: URLSearchParams }) {
  const cursor = query.get('cursor') ?? undefined;
  const page = Number(query.get('page') ?? '1') || 1;
  const list = useLoad(() => ok(api.GET('/api/v1/orders', { params: { query: { limit: PAGE_SIZE, cursor } } })), [cursor]);

  return (
    <Page title="My orders">
      <Problem error={list.error} />
      {list.loading && !list.data && <Loading what="Loading your orders" />}
      {list.data &&
        (list.data.items.length === 0 && !cursor ? (
          <p>
            You have no orders yet. <a href={href('/')}>Browse the catalog</a>.
          </p>
        ) : (
          <>
            <table class="orders">
              <caption class="visually-hidden">Your orders, newest first (page {page})</caption>
              <thead>
                <tr>
                  <th scope="col">Order</th>
                  <th scope="col">Placed</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">
                    Products
                  </th>
                  <th scope="col" class="num">
                    Total
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((o) => (
                  <tr key={o.id}>
                    <td>
                      <a href={href(`/orders/${o.id}`)}>
                        <span class="visually-hidden">Order </span>
                        <code>{o.id.slice(0, 8)}</code>
                      </a>
                    </td>
                    <td>{formatDate(o.createdAt)}</td>
                    <td>
                      <StatusBadge status={o.status} />
                    </td>
                    <td class="num">{o.lineCount}</td>
                    <td class="num">
                      <Money {...o.total} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <nav class="pager" aria-label="Order pages">
              {cursor && <a href={href('/orders')}>Newest orders</a>}
              {list.data.nextCursor && <a href={href('/orders', { cursor: list.data.nextCursor, page: page + 1 })}>Older orders</a>}
            </nav>
          </>
        ))}
    </Page>
  );
}
