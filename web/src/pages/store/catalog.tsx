import { useEffect, useState } from 'preact/hooks';
import { api, ok, type Schemas } from '../../api';
import { href, navigate, productPath } from '../../router';
import { useSession } from '../../session';
import { Form, Loading, Money, Page, PageLinks, Problem, ProductLink, useAction, useLoad } from '../../ui';
import { fieldError, TextField, toMinor } from './parts';

const PAGE_SIZE = 12;

type Product = Schemas['Product'];

/** What the catalog shows when a product's stock is low or gone. */
export function StockNote({ available }: { available: number }) {
  if (available <= 0) return <span class="stock stock-out">Out of stock</span>;
  if (available <= 5) return <span class="stock stock-low">Only {available} left</span>;
  return <span class="stock">{available} in stock</span>;
}

/**
 * The catalog has no list of categories of its own: the ones offered are
 * those of the products for sale (read once, at most 100 of them).
 */
function useCategories(): string[] {
  const { data } = useLoad(() => ok(api.GET('/api/v1/products', { params: { query: { limit: 100 } } })), []);
  return [...new Set((data?.items ?? []).map((p) => p.category))].sort();
}

export function CatalogPage({ query }: { query: URLSearchParams }) {
  const q = query.get('q') ?? '';
  const category = query.get('category') ?? '';
  const minPrice = query.get('minPrice') ?? '';
  const maxPrice = query.get('maxPrice') ?? '';
  const cursor = query.get('cursor') ?? undefined;
  const page = Number(query.get('page') ?? '1') || 1;
  const categories = useCategories();

  const [form, setForm] = useState({ q, category, minPrice, maxPrice });
  // a link or the browser's back button changed the filters: the form follows
  useEffect(() => setForm({ q, category, minPrice, maxPrice }), [q, category, minPrice, maxPrice]);
  const list = useLoad(
    () =>
      ok(
        api.GET('/api/v1/products', {
          params: {
            query: {
              limit: PAGE_SIZE,
              cursor,
              q: q || undefined,
              category: category || undefined,
              minPrice: toMinor(minPrice),
              maxPrice: toMinor(maxPrice),
            },
          },
        }),
      ),
    [q, category, minPrice, maxPrice, cursor],
  );

  const filters = { q, category, minPrice, maxPrice };
  const filtered = Boolean(q || category || minPrice || maxPrice);
  const priceError = fieldError(list.error, 'maxPrice') ?? fieldError(list.error, 'minPrice');

  return (
    <Page title="Catalog">
      <Form class="filters panel" role="search" aria-label="Products" noValidate onSubmit={() => navigate('/', { ...form })}>
        <div class="row">
          <TextField id="catalog-q" label="Search" type="search" name="q" hint="Part of the name" value={form.q} onInput={(e) => setForm({ ...form, q: e.currentTarget.value })} />
          <div class="field">
            <label for="catalog-category">Category</label>
            <select id="catalog-category" name="category" value={form.category} onChange={(e) => setForm({ ...form, category: e.currentTarget.value })}>
              <option value="">All categories</option>
              {[...new Set([...categories, ...(category ? [category] : [])])].map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </div>
          <TextField id="catalog-min" label="Min price ($)" inputMode="decimal" name="minPrice" class="short" value={form.minPrice} onInput={(e) => setForm({ ...form, minPrice: e.currentTarget.value })} />
          <TextField
            id="catalog-max"
            label="Max price ($)"
            inputMode="decimal"
            name="maxPrice"
            class="short"
            value={form.maxPrice}
            error={priceError}
            onInput={(e) => setForm({ ...form, maxPrice: e.currentTarget.value })}
          />
          <div class="field">
            <button type="submit">Search</button>
          </div>
          {filtered && (
            <div class="field">
              <a
                class="button secondary"
                href={href('/')}
                onClick={() => setForm({ q: '', category: '', minPrice: '', maxPrice: '' })}
              >
                Clear filters
              </a>
            </div>
          )}
        </div>
      </Form>

      {list.error !== undefined && !priceError && <Problem error={list.error} />}
      {list.loading && !list.data && <Loading what="Loading products" />}
      {list.data && (
        <>
          <p class="muted" role="status">
            {list.data.items.length === 0
              ? 'No products match.'
              : `Page ${page}: ${list.data.items.length} product${list.data.items.length === 1 ? '' : 's'}${filtered ? ' matching' : ''}.`}
          </p>
          <ul class="grid products" aria-label="Products">
            {list.data.items.map((p) => (
              <ProductCard key={p.id} product={p} />
            ))}
          </ul>
          <PageLinks
            label="Catalog pages"
            first={cursor ? [href('/', filters), 'First page'] : undefined}
            next={list.data.nextCursor ? [href('/', { ...filters, cursor: list.data.nextCursor, page: page + 1 }), 'Next page'] : undefined}
          />
        </>
      )}
    </Page>
  );
}

function ProductCard({ product: p }: { product: Product }) {
  return (
    <li class="card product">
      <h2>
        <ProductLink id={p.id} name={p.name} />
      </h2>
      <p class="muted small">{p.category}</p>
      <p class="price">
        <Money {...p.price} />
      </p>
      <p>
        <StockNote available={p.available} />
      </p>
    </li>
  );
}

/** Keyed by the product: another product's page starts afresh (quantity 1, no notice). */
export const ProductPage = ({ params }: { params: Record<string, string> }) => <ProductView key={params.id} params={params} />;

function ProductView({ params }: { params: Record<string, string> }) {
  const { account } = useSession();
  const product = useLoad(() => ok(api.GET('/api/v1/products/{id}', { params: { path: { id: params.id } } })), [params.id]);
  const [quantity, setQuantity] = useState('1');
  const [added, setAdded] = useState<{ quantity: number; inCart: number } | undefined>(undefined);
  const add = useAction(async () => {
    setAdded(undefined);
    const cart = await ok(api.POST('/api/v1/cart/items', { body: { productId: params.id, quantity: Number(quantity) } }));
    setAdded({ quantity: Number(quantity), inCart: cart.items.find((i) => i.productId === params.id)?.quantity ?? 0 });
  });

  if (product.error) {
    return (
      <Page title="Product not found">
        <Problem error={product.error} />
        <p>
          <a href={href('/')}>Back to the catalog</a>
        </p>
      </Page>
    );
  }
  if (!product.data) return <Loading what="Loading the product" />;
  const p = product.data;

  return (
    <Page title={p.name}>
      <p>
        <a href={href('/', { category: p.category })}>More in {p.category}</a> · <a href={href('/')}>All products</a>
      </p>
      <div class="product-detail">
        <dl class="facts">
          <dt>Price</dt>
          <dd class="price">
            <Money {...p.price} />
          </dd>
          <dt>Availability</dt>
          <dd>
            <StockNote available={p.available} />
          </dd>
          <dt>SKU</dt>
          <dd>{p.sku}</dd>
        </dl>
        <p>{p.description}</p>
        {!p.active && <p class="problem">This product is no longer for sale.</p>}
        {p.active &&
          (account === null ? (
            <p>
              <a class="button" href={href('/login', { next: productPath(p.id) })}>
                Log in to add to cart
              </a>
            </p>
          ) : (
            <Form
              class="panel add-to-cart"
              noValidate
              onSubmit={() => {
                if (!account) return navigate('/login', { next: productPath(p.id) });
                void add.go();
              }}
            >
              <div class="row">
                <TextField
                  id="product-quantity"
                  label="Quantity"
                  type="number"
                  min={1}
                  max={99}
                  class="short"
                  value={quantity}
                  hint={`1–99; ${p.available} in stock`}
                  onInput={(e) => setQuantity(e.currentTarget.value)}
                />
                <div class="field">
                  <button type="submit" disabled={add.busy}>
                    {add.busy ? 'Adding…' : 'Add to cart'}
                  </button>
                </div>
              </div>
              <Problem error={add.error} />
              {added && (
                <p class="notice" role="status">
                  Added {added.quantity} to your cart (now {added.inCart}). <a href={href('/cart')}>View cart</a>
                </p>
              )}
            </Form>
          ))}
      </div>
    </Page>
  );
}
