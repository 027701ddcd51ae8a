import { useEffect, useState } from 'preact/hooks';
import { api, ok, type Schemas } from '../../api';
import { href, navigate } from '../../router';
import { DateTime, Form, formatMoney, Loading, Page, Pager, Problem, shortId, StatusBadge, useAction, useCursorPages, useLoad } from '../../ui';
import { Announcer, ConsoleNav, readOrder, readUntil } from './common';

type Return = Schemas['Return'];
type ReturnStatus = Schemas['ReturnStatus'];
type Outcome = Schemas['InspectionOutcome'];
const STATUSES: ReturnStatus[] = ['REQUESTED', 'RECEIVED', 'INSPECTED', 'REFUNDED', 'REJECTED', 'LAPSED'];

/** Product names by id, as the catalog has them now (GET /api/v1/products/{id} answers for inactive products too). */
type Names = Record<string, string>;
const named = new Map<string, Promise<string | undefined>>();

/** One product's name, asked once per id while the console is open; a failed read is asked again next time. */
function productName(id: string): Promise<string | undefined> {
  let name = named.get(id);
  if (!name) {
    name = ok(api.GET('/api/v1/products/{id}', { params: { path: { id } } })).then(
      (p) => p.name,
      () => {
        named.delete(id);
        return undefined;
      },
    );
    named.set(id, name);
  }
  return name;
}

/** The names of the products these returns hold; until they come (or for a product gone), the line shows its id alone. */
function useProductNames(returns: Return[] | undefined): Names {
  const key = JSON.stringify([...new Set((returns ?? []).flatMap((r) => r.lines.map((l) => l.productId)))].sort());
  const [names, setNames] = useState<Names>({});
  useEffect(() => {
    let current = true;
    const ids = JSON.parse(key) as string[];
    void Promise.all(ids.map(async (id) => [id, await productName(id)] as const)).then((found) => {
      if (current) setNames(Object.fromEntries(found.filter((f): f is readonly [string, string] => f[1] !== undefined)));
    });
    return () => {
      current = false;
    };
  }, [key]);
  return names;
}

/** "Console widget (prod_console_widget)", or the id alone while its name is unknown. */
const productLabel = (names: Names, productId: string) => (names[productId] ? `${names[productId]} (${productId})` : productId);

/** Re-reads the return (through its order) until its status is none of `from`, for at most 15 s. */
const settleReturn = (r: Return, from: ReturnStatus[]): Promise<ReturnStatus> =>
  readUntil(async () => (await readOrder(r.orderId)).returns.find((x) => x.id === r.id)?.status ?? from[0], (status) => !from.includes(status), 15_000);

function ReceiveForm({ ret, done }: { ret: Return; done: (message: string) => void }) {
  const [note, setNote] = useState('');
  const action = useAction(async () => {
    await ok(api.POST('/api/v1/admin/orders/{id}/returns/{returnId}/received', { params: { path: { id: ret.orderId, returnId: ret.id } }, body: note.trim() ? { note: note.trim() } : {} }));
    const status = await settleReturn(ret, ['REQUESTED']);
    done(`Return ${ret.id}: receipt recorded, now ${status}.`);
  });
  const id = `note-${ret.id}`;
  return (
    <Form onSubmit={() => void action.go()}>
      <div class="field">
        <label for={id}>Warehouse note (optional)</label>
        <textarea id={id} rows={2} maxLength={500} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      </div>
      <button type="submit" disabled={action.busy}>
        {action.busy ? 'Recording…' : 'Record receipt'}
        <span class="visually-hidden"> of return {ret.id}</span>
      </button>
      <Problem error={action.error} />
    </Form>
  );
}

function InspectForm({ ret, names, done }: { ret: Return; names: Names; done: (message: string) => void }) {
  const [lines, setLines] = useState<{ productId: string; quantity: number; outcome: Outcome; reason: string }[]>(
    ret.lines.map((l) => ({ productId: l.productId, quantity: l.quantity, outcome: 'RESTOCK', reason: '' })),
  );
  const action = useAction(async () => {
    const body = { lines: lines.map((l) => ({ productId: l.productId, quantity: l.quantity, outcome: l.outcome, ...(l.outcome === 'REJECT' ? { reason: l.reason.trim() } : {}) })) };
    await ok(api.POST('/api/v1/admin/orders/{id}/returns/{returnId}/inspect', { params: { path: { id: ret.orderId, returnId: ret.id } }, body }));
    const status = await settleReturn(ret, ['RECEIVED', 'INSPECTED']);
    done(`Return ${ret.id}: inspection recorded, now ${status}.`);
  });
  const set = (i: number, change: Partial<(typeof lines)[number]>) => setLines(lines.map((l, j) => (j === i ? { ...l, ...change } : l)));
  const missingReason = lines.some((l) => l.outcome === 'REJECT' && !l.reason.trim());
  return (
    <Form onSubmit={() => !missingReason && void action.go()}>
      <fieldset>
        <legend>Inspection of return {ret.id}</legend>
        {lines.map((l, i) => {
          const base = `inspect-${ret.id}-${i}`;
          return (
            <div class="row" key={l.productId}>
              <div class="field">
                <label for={`${base}-outcome`}>
                  {l.quantity} × {productLabel(names, l.productId)}
                </label>
                <select id={`${base}-outcome`} value={l.outcome} onChange={(e) => set(i, { outcome: e.currentTarget.value as Outcome })}>
                  <option value="RESTOCK">Restock (refund, back on sale)</option>
                  <option value="WRITE_OFF">Write off (refund, not restocked)</option>
                  <option value="REJECT">Reject (no refund)</option>
                </select>
              </div>
              {l.outcome === 'REJECT' && (
                <div class="field grow">
                  <label for={`${base}-reason`}>Why rejected ({names[l.productId] ?? l.productId})</label>
                  <input id={`${base}-reason`} required maxLength={500} value={l.reason} onInput={(e) => set(i, { reason: e.currentTarget.value })} />
                </div>
              )}
            </div>
          );
        })}
      </fieldset>
      <button type="submit" disabled={action.busy || missingReason}>
        {action.busy ? 'Recording…' : 'Record inspection'}
        <span class="visually-hidden"> of return {ret.id}</span>
      </button>
      <Problem error={action.error} />
    </Form>
  );
}

function ReturnCard({ ret, names, done }: { ret: Return; names: Names; done: (message: string) => void }) {
  return (
    <li class="card">
      <h3>
        Return <code>{ret.id}</code> <StatusBadge status={ret.status} />
      </h3>
      <dl class="facts">
        <dt>Order</dt>
        <dd>
          <a href={href(`/console/orders/${ret.orderId}`)}>Order {shortId(ret.orderId)}</a>
        </dd>
        <dt>Reason</dt>
        <dd>{ret.reason}</dd>
        <dt>Lines</dt>
        <dd>
          <ul class="plain-lines">
            {ret.lines.map((l, i) => (
              <li key={i}>
                {l.quantity} × {names[l.productId] ?? l.productId}
                {names[l.productId] && (
                  <>
                    {' '}
                    <code class="small">{l.productId}</code>
                  </>
                )}
                {l.outcome && ` (${l.outcome}${l.rejectReason ? `: ${l.rejectReason}` : ''})`}
              </li>
            ))}
          </ul>
        </dd>
        <dt>Parcel</dt>
        <dd>
          <code>{ret.trackingNumber}</code>
        </dd>
        <dt>Requested</dt>
        <dd>
          <DateTime at={ret.requestedAt} />
        </dd>
        {ret.receiveBy && ret.status === 'REQUESTED' && (
          <>
            <dt>Goods due by</dt>
            <dd>
              <DateTime at={ret.receiveBy} />
            </dd>
          </>
        )}
        <dt>Refunded</dt>
        <dd>{formatMoney(ret.refundAmount, ret.currency)}</dd>
      </dl>
      {ret.status === 'REQUESTED' && <ReceiveForm ret={ret} done={done} />}
      {ret.status === 'RECEIVED' && <InspectForm ret={ret} names={names} done={done} />}
    </li>
  );
}

function ReturnList({ title, status, round, done }: { title: string; status: ReturnStatus | undefined; round: number; done: (message: string) => void }) {
  const pages = useCursorPages(`${status ?? ''}`);
  const { data, error, loading } = useLoad(() => ok(api.GET('/api/v1/admin/returns', { params: { query: { status, limit: 25, cursor: pages.cursor } } })), [status, pages.cursor, round]);
  const names = useProductNames(data?.items);
  return (
    <section aria-labelledby={`returns-${status ?? 'all'}`}>
      <h2 id={`returns-${status ?? 'all'}`}>{title}</h2>
      <Problem error={error} />
      {loading && !data ? (
        <Loading what="Loading returns" />
      ) : data ? (
        data.items.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <>
            <ul class="plain">
              {data.items.map((r) => (
                <ReturnCard key={`${r.id}-${r.status}`} ret={r} names={names} done={done} />
              ))}
            </ul>
            <Pager label={`${title}: pages`} page={pages.page} nextCursor={data.nextCursor} onNext={pages.next} onPrevious={pages.previous} />
          </>
        )
      ) : null}
    </section>
  );
}

/** #/console/returns: returns awaiting their goods or their inspection (or any status), with receipt and inspection. */
export function ReturnsPage({ query }: { query: URLSearchParams }) {
  const status = (query.get('status') ?? '') as ReturnStatus | '';
  const [round, setRound] = useState(0);
  const [message, setMessage] = useState('');
  const done = (m: string) => {
    setMessage(m);
    setRound((r) => r + 1);
  };
  return (
    <Page title="Returns">
      <ConsoleNav current="/console/returns" />
      <div class="row filters">
        <div class="field">
          <label for="returns-status">Show</label>
          <select id="returns-status" value={status} onChange={(e) => navigate('/console/returns', { status: e.currentTarget.value || undefined })}>
            <option value="">Awaiting goods or inspection</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </div>
      <Announcer message={message} />
      {status === '' ? (
        <>
          <ReturnList title="Awaiting goods" status="REQUESTED" round={round} done={done} />
          <ReturnList title="Awaiting inspection" status="RECEIVED" round={round} done={done} />
        </>
      ) : (
        <ReturnList title={status} status={status} round={round} done={done} />
      )}
    </Page>
  );
}
