import { useState } from 'preact/hooks';
import { api, ok, type Schemas } from '../../api';
import { navigate } from '../../router';
import { Loading, Money, Page, Problem, useAction, useLoad } from '../../ui';
import { Announcer, ConsoleNav, Pager, useCursorPages } from './common';

type Product = Schemas['Product'];
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
    <form
      class="row compact"
      aria-label={`Change stock of ${product.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) void action.go();
      }}
    >
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
    </form>
  );
}

/** #/console/stock: the catalog's products with their stock; set or add units per product. */
export function StockPage({ query }: { query: URLSearchParams }) {
  const q = query.get('q') ?? '';
  const [draft, setDraft] = useState(q);
  const pages = useCursorPages(q);
  const [counts, setCounts] = useState<Record<string, Stock>>({});
  const [message, setMessage] = useState('');
  const { data, error, loading, reload } = useLoad(
    () => ok(api.GET('/api/v1/products', { params: { query: { limit: 50, cursor: pages.cursor, q: q.trim() || undefined } } })),
    [q, pages.cursor],
  );
  const changed = (product: Product) => (stock: Stock) => {
    setCounts((c) => ({ ...c, [product.id]: stock }));
    setMessage(`${product.name}: ${stock.available} available, ${stock.reserved} reserved, ${stock.sold} sold, ${stock.returned} returned.`);
    reload();
  };

  return (
    <Page title="Stock">
      <ConsoleNav current="/console/stock" />
      <form
        class="row filters"
        role="search"
        aria-label="Find products"
        onSubmit={(e) => {
          e.preventDefault();
          navigate('/console/stock', { q: draft.trim() || undefined });
        }}
      >
        <div class="field grow">
          <label for="stock-q">Product name</label>
          <input id="stock-q" type="search" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} />
        </div>
        <div class="field">
          <button type="submit">Find</button>
        </div>
      </form>
      <p class="muted">
        Products for sale, with the units available now. Reserved, sold and returned units show once a product's stock has been changed here.
      </p>
      <Announcer message={message} />
      <Problem error={error} />
      {loading && !data ? (
        <Loading what="Loading products" />
      ) : data ? (
        <>
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Products and their stock</caption>
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col">SKU</th>
                  <th scope="col" class="num">Price</th>
                  <th scope="col" class="num">Available</th>
                  <th scope="col">Reserved / sold / returned</th>
                  <th scope="col">Change</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((p) => {
                  const c = counts[p.id];
                  return (
                    <tr key={p.id}>
                      <th scope="row">
                        {p.name}
                        <div class="small muted">
                          <code>{p.id}</code> · {p.category}
                        </div>
                      </th>
                      <td>{p.sku}</td>
                      <td class="num">
                        <Money {...p.price} />
                      </td>
                      <td class="num">{c?.available ?? p.available}</td>
                      <td>{c ? `${c.reserved} / ${c.sold} / ${c.returned}` : <span class="muted">—</span>}</td>
                      <td>
                        <StockForm product={p} onChanged={changed(p)} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {data.items.length === 0 && <p>No product matches.</p>}
          <Pager label="Product pages" page={pages.page} nextCursor={data.nextCursor} onNext={pages.next} onPrevious={pages.previous} />
        </>
      ) : null}
    </Page>
  );
}
