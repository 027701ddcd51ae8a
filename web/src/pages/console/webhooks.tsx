import { useState } from 'preact/hooks';
import { api, ok, type Schemas } from '../../api';
import { href } from '../../router';
import { DateTime, Field, Form, Loading, Page, Pager, Problem, shortId, StatusBadge, Table, useAction, useCursorPages, useLoad, type Column } from '../../ui';
import { Announcer, ConsoleNav } from './common';

type Delivery = Schemas['WebhookDelivery'];
type DeliveryStatus = Delivery['status'];
type Subscription = Schemas['Webhook'];

const eventTypesOf = (types: string[]) => (types.length === 0 ? 'every event' : types.join(', '));

/** The secret is shown once, when made or rotated: say so, and keep it selectable. */
const Secret = ({ secret, what }: { secret: string; what: string }) => (
  <div class="notice" role="status">
    <p>
      {what} Its signing secret is shown only now; keep it:
    </p>
    <code class="secret">{secret}</code>
  </div>
);

function CreateWebhook({ created }: { created: () => void }) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [types, setTypes] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const action = useAction(async () => {
    const eventTypes = types.split(',').map((t) => t.trim()).filter(Boolean);
    const made = await ok(api.POST('/api/v1/admin/webhooks', { body: { url: url.trim(), eventTypes, ...(description.trim() ? { description: description.trim() } : {}) } }));
    setSecret(made.secret);
    setUrl('');
    setDescription('');
    setTypes('');
    created();
  });
  return (
    <section aria-labelledby="new-webhook" class="panel">
      <h2 id="new-webhook">New subscription</h2>
      <Form onSubmit={() => void action.go()}>
        <Field label="URL" type="url" required value={url} placeholder="https://erp.example.com/hooks/orders" onInput={(e) => setUrl(e.currentTarget.value)} />
        <Field label="Description" value={description} maxLength={200} onInput={(e) => setDescription(e.currentTarget.value)} />
        <Field
          label="Event types"
          hint="Comma-separated, e.g. order.status.*, order.shipment_captured; empty: every event"
          value={types}
          onInput={(e) => setTypes(e.currentTarget.value)}
        />
        <button type="submit" disabled={action.busy}>
          {action.busy ? 'Subscribing…' : 'Subscribe'}
        </button>
        <Problem error={action.error} />
      </Form>
      {secret && <Secret secret={secret} what="Subscribed." />}
    </section>
  );
}

const SUBSCRIPTION_COLUMNS: Column<Subscription>[] = [
  { head: 'URL', cell: (w) => <a href={href(`/console/webhooks/${w.id}`)}>{w.url}</a> },
  { head: 'Description', cell: (w) => w.description ?? <span class="muted">—</span> },
  {
    head: 'State',
    cell: (w) => (
      <>
        <StatusBadge status={w.status} />
        {w.pausedReason && <div class="small">{w.pausedReason}</div>}
      </>
    ),
  },
  { head: 'Event types', cell: (w) => eventTypesOf(w.eventTypes) },
  { head: 'Created', cell: (w) => <DateTime at={w.createdAt} /> },
];

/** #/console/webhooks: the order feed's subscriptions. */
export function WebhooksPage() {
  const { data, error, loading, reload } = useLoad(() => ok(api.GET('/api/v1/admin/webhooks')), []);
  return (
    <Page title="Webhooks">
      <ConsoleNav current="/console/webhooks" />
      <Problem error={error} />
      {loading && !data ? (
        <Loading what="Loading subscriptions" />
      ) : data ? (
        data.items.length === 0 ? (
          <p class="muted">No subscription yet.</p>
        ) : (
          <Table caption="Webhook subscriptions, oldest first" hideCaption columns={SUBSCRIPTION_COLUMNS} rows={data.items} rowKey={(w) => w.id} />
        )
      ) : null}
      <CreateWebhook created={reload} />
    </Page>
  );
}

function ReplayForm({ id, done }: { id: string; done: (m: string) => void }) {
  const [from, setFrom] = useState<'event' | 'time'>('event');
  const [value, setValue] = useState('');
  const [orderId, setOrderId] = useState('');
  const action = useAction(async () => {
    const body = {
      ...(from === 'event' ? { fromEventId: value.trim() } : { fromTime: new Date(value).toISOString() }),
      ...(orderId.trim() ? { orderId: orderId.trim() } : {}),
    };
    const { queued } = await ok(api.POST('/api/v1/admin/webhooks/{id}/replay', { params: { path: { id } }, body }));
    done(`Replay queued ${queued} deliver${queued === 1 ? 'y' : 'ies'}.`);
  });
  return (
    <section aria-labelledby="replay" class="panel">
      <h2 id="replay">Replay events</h2>
      <Form onSubmit={() => value.trim() && void action.go()}>
        <div class="row">
          <div class="field">
            <label for="replay-from">From</label>
            <select
              id="replay-from"
              value={from}
              onChange={(e) => {
                setFrom(e.currentTarget.value as 'event' | 'time');
                setValue('');
              }}
            >
              <option value="event">an event id</option>
              <option value="time">a time</option>
            </select>
          </div>
          <div class="field">
            <label for="replay-value">{from === 'event' ? 'Event id' : 'Time'}</label>
            {from === 'event' ? (
              <input id="replay-value" type="text" inputMode="numeric" required value={value} onInput={(e) => setValue(e.currentTarget.value)} />
            ) : (
              <input id="replay-value" type="datetime-local" required value={value} onInput={(e) => setValue(e.currentTarget.value)} />
            )}
          </div>
          <div class="field grow">
            <label for="replay-order">Only this order (id, optional)</label>
            <input id="replay-order" value={orderId} onInput={(e) => setOrderId(e.currentTarget.value)} />
          </div>
        </div>
        <button type="submit" disabled={action.busy || !value.trim()}>
          Replay
        </button>
        <Problem error={action.error} />
      </Form>
    </section>
  );
}

function DeliveryRow({ id, d, done }: { id: string; d: Delivery; done: (m: string) => void }) {
  const path = { params: { path: { id, deliveryId: d.id } } };
  const redeliver = useAction(async () => {
    const again = await ok(api.POST('/api/v1/admin/webhooks/{id}/deliveries/{deliveryId}/redeliver', path));
    done(`Delivery ${d.id} queued again${again.id !== d.id ? ` as delivery ${again.id}` : ''}.`);
  });
  const skip = useAction(async () => {
    await ok(api.POST('/api/v1/admin/webhooks/{id}/deliveries/{deliveryId}/skip', path));
    done(`Delivery ${d.id} skipped: the later events of order ${shortId(d.orderId)} go on.`);
  });
  return (
    <tr>
      <td>{d.id}</td>
      <td>
        <code>{d.type}</code>
        <div class="small">
          event {d.eventId}, #{d.sequence} of <a href={href(`/console/orders/${d.orderId}`)}>order {shortId(d.orderId)}</a>
          {d.replay && ' (replay)'}
        </div>
      </td>
      <td>
        <StatusBadge status={d.status} />
      </td>
      <td class="num">{d.attempts}</td>
      <td>
        {d.lastStatusCode !== null && <span>HTTP {d.lastStatusCode} </span>}
        {d.lastError ?? (d.lastStatusCode === null ? <span class="muted">—</span> : null)}
        {d.nextAttemptAt && (
          <div class="small">
            next try <DateTime at={d.nextAttemptAt} />
          </div>
        )}
      </td>
      <td>
        <div class="row compact">
          <button type="button" class="secondary" disabled={redeliver.busy} onClick={() => void redeliver.go()}>
            Redeliver<span class="visually-hidden"> delivery {d.id}</span>
          </button>
          {(d.status === 'PENDING' || d.status === 'FAILED') && (
            <button type="button" class="secondary" disabled={skip.busy} onClick={() => void skip.go()}>
              Skip<span class="visually-hidden"> delivery {d.id}</span>
            </button>
          )}
        </div>
        <Problem error={redeliver.error ?? skip.error} />
      </td>
    </tr>
  );
}

/** DeliveryRow draws each row: its actions keep their own state. */
const DELIVERY_COLUMNS: Column<Delivery>[] = [{ head: 'Id' }, { head: 'Event' }, { head: 'Status' }, { head: 'Attempts', num: true }, { head: 'Last error' }, { head: 'Actions' }];

function Deliveries({ id, round, done }: { id: string; round: number; done: (m: string) => void }) {
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const pages = useCursorPages(status);
  const { data, error, loading } = useLoad(
    () => ok(api.GET('/api/v1/admin/webhooks/{id}/deliveries', { params: { path: { id }, query: { status: status || undefined, limit: 25, cursor: pages.cursor } } })),
    [id, status, pages.cursor, round],
  );
  return (
    <section aria-labelledby="deliveries">
      <h2 id="deliveries">Deliveries</h2>
      <div class="field">
        <label for="deliveries-status">Status</label>
        <select id="deliveries-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as DeliveryStatus | '')}>
          <option value="">Any</option>
          <option value="PENDING">PENDING</option>
          <option value="FAILED">FAILED</option>
          <option value="DELIVERED">DELIVERED</option>
          <option value="SKIPPED">SKIPPED</option>
        </select>
      </div>
      <Problem error={error} />
      {loading && !data ? (
        <Loading what="Loading deliveries" />
      ) : data ? (
        data.items.length === 0 ? (
          <p class="muted">No delivery.</p>
        ) : (
          <>
            <Table
              caption="Deliveries, newest first"
              hideCaption
              columns={DELIVERY_COLUMNS}
              rows={data.items}
              rowKey={(d) => `${d.id}-${d.status}-${d.attempts}`}
              row={(d) => <DeliveryRow id={id} d={d} done={done} />}
            />
            <Pager label="Delivery pages" page={pages.page} nextCursor={data.nextCursor} onNext={pages.next} onPrevious={pages.previous} />
          </>
        )
      ) : null}
    </section>
  );
}

/** #/console/webhooks/:id: one subscription, its deliveries, and what an operator does about them. */
export function WebhookPage({ params }: { params: Record<string, string> }) {
  const id = params.id;
  const [round, setRound] = useState(0);
  const [message, setMessage] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const { data, error, loading } = useLoad(() => ok(api.GET('/api/v1/admin/webhooks/{id}', { params: { path: { id } } })), [id, round]);
  const done = (m: string) => {
    setMessage(m);
    setRound((r) => r + 1);
  };
  const path = { params: { path: { id } } };
  const toggle = useAction(async (pause: boolean) => {
    if (pause) await ok(api.POST('/api/v1/admin/webhooks/{id}/pause', path));
    else await ok(api.POST('/api/v1/admin/webhooks/{id}/resume', path));
    done(pause ? 'Subscription paused: deliveries are kept until it is resumed.' : 'Subscription resumed.');
  });
  const rotate = useAction(async () => {
    const r = await ok(api.POST('/api/v1/admin/webhooks/{id}/rotate-secret', path));
    setSecret(r.secret);
    done('Secret rotated.');
  });
  return (
    <Page title="Webhook subscription">
      <ConsoleNav current="" />
      <p>
        <a href={href('/console/webhooks')}>All subscriptions</a>
      </p>
      <Announcer message={message} />
      <Problem error={error} />
      {loading && !data ? (
        <Loading what="Loading the subscription" />
      ) : data ? (
        <>
          <dl class="facts">
            <dt>URL</dt>
            <dd>
              <code>{data.url}</code>
            </dd>
            <dt>Description</dt>
            <dd>{data.description ?? '—'}</dd>
            <dt>State</dt>
            <dd>
              <StatusBadge status={data.status} /> {data.pausedReason}
            </dd>
            <dt>Event types</dt>
            <dd>{eventTypesOf(data.eventTypes)}</dd>
            <dt>Deliveries</dt>
            <dd>
              {data.deliveries.pending} pending, {data.deliveries.failed} failed, {data.deliveries.delivered} delivered, {data.deliveries.skipped} skipped
              {data.deliveries.oldestPendingAt && (
                <>
                  ; oldest pending since <DateTime at={data.deliveries.oldestPendingAt} />
                </>
              )}
            </dd>
            {data.previousSecretUntil && (
              <>
                <dt>Previous secret signs until</dt>
                <dd>
                  <DateTime at={data.previousSecretUntil} />
                </dd>
              </>
            )}
          </dl>
          <div class="row">
            <button type="button" class="secondary" disabled={toggle.busy} onClick={() => void toggle.go(data.status === 'ACTIVE')}>
              {data.status === 'ACTIVE' ? 'Pause' : 'Resume'}
            </button>
            <button type="button" class="secondary" disabled={rotate.busy} onClick={() => void rotate.go()}>
              Rotate secret
            </button>
          </div>
          <Problem error={toggle.error ?? rotate.error} />
          {secret && <Secret secret={secret} what="Rotated." />}
          <Deliveries id={id} round={round} done={done} />
          <ReplayForm id={id} done={done} />
        </>
      ) : null}
    </Page>
  );
}
