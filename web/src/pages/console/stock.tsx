import { useEffect, useState } from 'preact/hooks';
import { api, ok, type Schemas } from '../../api';
import { navigate } from '../../router';
import { Form, Loading, Page, Pager, Problem, Table, useAction, useCursorPages, useLoad, type Column } from '../../ui';
import { Announcer, ConsoleNav } from './common';

type Product = Schemas['InventoryItem'];
type Stock = Schemas['Stock'];

/** One product's stock change: set the available units, or add (negative removes). */
function StockForm({ product, onChanged }: { product: Product; onChanged: (stock: Stock) => void }) {
  const [mode, setMode] = useState<'set' | 'add'>('add');
  const [units, setUnits] = useState('');
  const action = useAction(async () => {
    const n = Number(units);
    const body = mode === 'set' ? { available: n } : { add: n };
    const stock = await ok(api.PUT('/api/v1/admin/inventory/{productId}', { params: { path: { productId: product.id } }, body }));
    onChanged(stock);
    setUnits('');
  });
  const base = `stock-${product.id}`;
  const valid = units.trim() !== '' && Number.isInteger(Number(units)) && (mode === 'add' || Number(units) >= 0);
  return (
    <Form class="row compact" aria-label={`Change stock of ${product.name}`} onSubmit={() => valid && void action.go()}>
      <label class="visually-hidden" for={`${base}-mode`}>
        How to change the stock of {product.name}
      </label>
      <select id={`${base}-mode`} value={mode} onChange={(e) => setMode(e.currentTarget.value as 'set' | 'add')}>
        <option value="add">Add units</option>
        <option value="set">Set available to</option>
      </select>
      <label class="visually-hidden" for={`${base}-units`}>
        Units for {product.name}
      </label>
      <input
        id={`${base}-units`}
        class="units"
        type="number"
        inputMode="numeric"
        step={1}
        min={mode === 'set' ? 0 : undefined}
        value={units}
        onInput={(e) => setUnits(e.currentTarget.value)}
      />
      <button type="submit" disabled={action.busy || !valid}>
        Apply<span class="visually-hidden"> to {product.name}</span>
      </button>
      <Problem error={action.error} />
    </Form>
  );
}

/** A product's stock counts, in the order the page shows them. */
const STOCK_COUNTS: [keyof Stock & ('available' | 'reserved' | 'sold' | 'returned'), string][] = [
  ['available', 'Available'],
  ['reserved', 'Reserved'],
  ['sold', 'Sold'],
  ['returned', 'Returned'],
];

/** #/console/stock: every product, inactive ones too, with its warehouse and stock (GET /api/v1/admin/inventory); set or add units per product. */
export function StockPage({ query }: { query: URLSearchParams }) {
  const q = query.get('q') ?? '';
  const warehouse = query.get('warehouse') ?? '';
  const [draft, setDraft] = useState({ q, warehouse });
  useEffect(() => setDraft({ q, warehouse }), [q, warehouse]);
  const pages = useCursorPages(`${q}|${warehouse}`);
  const [counts, setCounts] = useState<Record<string, Stock>>({});
  const [message, setMessage] = useState('');
  const { data, error, loading, reload } = useLoad(
    () =>
      ok(
        api.GET('/api/v1/admin/inventory', {
          params: { query: { limit: 50, cursor: pages.cursor, q: q.trim() || undefined, warehouse: warehouse.trim() || undefined } },
        }),
      ),
    [q, warehouse, pages.cursor],
  );
  // a fresh read of the list supersedes the answers of the changes made before it
  useEffect(() => setCounts({}), [data]);
  const changed = (product: Product) => (stock: Stock) => {
    setCounts((c) => ({ ...c, [product.id]: stock }));
    setMessage(`${product.name}: ${stock.available} available, ${stock.reserved} reserved, ${stock.sold} sold, ${stock.returned} returned.`);
    reload();
  };

  // the answer of a change made here, until the list is read again
  const stock = (p: Product) => counts[p.id] ?? p.stock;
  const columns: Column<Product>[] = [
    {
      head: 'Product',
      rowHeader: true,
      cell: (p) => (
        <>
          {p.name}
          <div class="small muted">
            <code>{p.id}</code>
          </div>
        </>
      ),
    },
    { head: 'SKU', class: 'nowrap', cell: (p) => p.sku },
    { head: 'Warehouse', cell: (p) => p.warehouse },
    { head: 'Active', cell: (p) => (p.active ? 'Yes' : 'No') },
    ...STOCK_COUNTS.map(([count, head]): Column<Product> => ({ head, num: true, cell: (p) => stock(p)[count] })),
    { head: 'Change', cell: (p) => <StockForm product={p} onChanged={changed(p)} /> },
  ];

  return (
    <Page title="Stock">
      <ConsoleNav current="/console/stock" />
      <Form class="row filters" role="search" aria-label="Find products" onSubmit={() => navigate('/console/stock', { q: draft.q.trim() || undefined, warehouse: draft.warehouse.trim() || undefined })}>
        <div class="field grow">
          <label for="stock-q">Product name or SKU</label>
          <input id="stock-q" type="search" maxLength={100} value={draft.q} onInput={(e) => setDraft({ ...draft, q: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="stock-warehouse">Warehouse</label>
          <input
            id="stock-warehouse"
            type="search"
            maxLength={50}
            aria-describedby="stock-warehouse-hint"
            value={draft.warehouse}
            onInput={(e) => setDraft({ ...draft, warehouse: e.currentTarget.value })}
          />
          <span id="stock-warehouse-hint" class="small muted">
            Its whole name, e.g. main; empty: every warehouse
          </span>
        </div>
        <div class="field">
          <button type="submit">Find</button>
        </div>
      </Form>
      <p class="muted">Every product, inactive ones too, with its units in its warehouse: available to sell, reserved by orders not yet shipped, sold and returned.</p>
      <Announcer message={message} />
      <Problem error={error} />
      {loading && !data ? (
        <Loading what="Loading products" />
      ) : data ? (
        <>
          <Table class="stock-table" caption="Products and their stock" hideCaption columns={columns} rows={data.items} rowKey={(p) => p.id} />
          {data.items.length === 0 && <p>No product matches.</p>}
          <Pager label="Product pages" page={pages.page} nextCursor={data.nextCursor} onNext={pages.next} onPrevious={pages.previous} />
        </>
      ) : null}
    </Page>
  );
}
