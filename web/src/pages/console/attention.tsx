import { api, ok } from '../../api';
import { href } from '../../router';
import { DateTime, Loading, Money, Page, Pager, Problem, shortId, useCursorPages, useLoad } from '../../ui';
import { Announcer, ConsoleNav, RepairButtons, useRepairs } from './common';

/** #/console/attention: the orders that wait for an operator, why, and the repairs that apply. */
export function AttentionPage() {
  const pages = useCursorPages('attention');
  const { data, error, loading, reload } = useLoad(
    () => ok(api.GET('/api/v1/admin/orders', { params: { query: { status: 'NEEDS_ATTENTION', limit: 50, cursor: pages.cursor } } })),
    [pages.cursor],
  );
  const repairs = useRepairs(() => reload());

  return (
    <Page
      title="Needs attention"
      actions={
        <button type="button" class="secondary" onClick={reload} disabled={loading}>
          Refresh
        </button>
      }
    >
      <ConsoleNav current="/console/attention" />
      <p class="muted">Orders the saga cannot finish alone: a payment step the gateway refused, or compensations that failed. Each shows why it waits and what can be done.</p>
      <Announcer message={repairs.message} />
      <Problem error={error} />
      {loading && !data ? (
        <Loading what="Loading the queue" />
      ) : data ? (
        data.items.length === 0 ? (
          <p class="notice">No order needs attention.</p>
        ) : (
          <>
            <ul class="queue">
              {data.items.map((o) => (
                <li key={o.id} class="card attention-card">
                  <h2>
                    <a href={href(`/console/orders/${o.id}`)}>Order {shortId(o.id)}</a>
                  </h2>
                  <dl class="facts">
                    <dt>Customer</dt>
                    <dd>{o.customerEmail ?? o.customerId}</dd>
                    <dt>Total</dt>
                    <dd>
                      <Money {...o.total} />
                    </dd>
                    <dt>Waiting since</dt>
                    <dd>
                      <DateTime at={o.attention?.at ?? o.updatedAt} />
                    </dd>
                    <dt>Reason</dt>
                    <dd>
                      {o.attention ? (
                        <>
                          <code>{o.attention.code}</code> {o.attention.message}
                        </>
                      ) : (
                        'not recorded'
                      )}
                    </dd>
                  </dl>
                  <RepairButtons order={o} repairs={repairs} />
                </li>
              ))}
            </ul>
            <Pager label="Queue pages" page={pages.page} nextCursor={data.nextCursor} onNext={pages.next} onPrevious={pages.previous} />
          </>
        )
      ) : null}
    </Page>
  );
}
