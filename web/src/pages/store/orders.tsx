import { api, ok, type Schemas } from '../../api';
import { href } from '../../router';
import { DateTime, Loading, Money, Page, PageLinks, Problem, shortId, StatusBadge, Table, useLoad, type Column } from '../../ui';

const PAGE_SIZE = 10;

const COLUMNS: Column<Schemas['OrderSummary']>[] = [
  {
    head: 'Order',
    cell: (o) => (
      <a href={href(`/orders/${o.id}`)}>
        <span class="visually-hidden">Order </span>
        <code>{shortId(o.id)}</code>
      </a>
    ),
  },
  { head: 'Placed', cell: (o) => <DateTime at={o.createdAt} /> },
  { head: 'Status', cell: (o) => <StatusBadge status={o.status} /> },
  { head: 'Products', num: true, cell: (o) => o.lineCount },
  { head: 'Total', num: true, cell: (o) => <Money {...o.total} /> },
];

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
            <Table
              class="orders"
              caption={`Your orders, newest first (page ${page})`}
              hideCaption
              columns={COLUMNS}
              rows={list.data.items}
              rowKey={(o) => o.id}
            />
            <PageLinks
              label="Order pages"
              first={cursor ? [href('/orders'), 'Newest orders'] : undefined}
              next={list.data.nextCursor ? [href('/orders', { cursor: list.data.nextCursor, page: page + 1 }), 'Older orders'] : undefined}
            />
          </>
        ))}
    </Page>
  );
}
