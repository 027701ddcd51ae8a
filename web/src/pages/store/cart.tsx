import { useEffect, useState } from 'preact/hooks';
import { api, ok, type Schemas } from '../../api';
import { href } from '../../router';
import { Form, LiveNotice, Loading, Money, Page, Problem, ProductLink, useAction, useLoad } from '../../ui';
import { useNotice } from './parts';

export type Cart = Schemas['Cart'];
type Line = Cart['items'][number];

/** What checkout will refuse about a line, said before the visitor gets there. */
export function lineWarning(line: Line): string | undefined {
  if (!line.active) return 'No longer for sale: remove it to check out.';
  if (line.available <= 0) return 'Out of stock now: checkout will refuse it.';
  if (line.quantity > line.available) return `Only ${line.available} in stock: checkout will refuse more.`;
  return undefined;
}

export function CartPage() {
  const cart = useLoad(() => ok(api.GET('/api/v1/cart')), []);
  const [current, setCurrent] = useState<Cart | undefined>(undefined);
  const [notice, setNotice] = useNotice();
  useEffect(() => setCurrent(cart.data), [cart.data]);
  const clear = useAction(async () => {
    setCurrent(await ok(api.DELETE('/api/v1/cart')));
    setNotice('Your cart is empty now.');
  });

  if (cart.error) {
    return (
      <Page title="Your cart">
        <Problem error={cart.error} />
      </Page>
    );
  }
  if (!current) return <Loading what="Loading your cart" />;

  return (
    <Page title="Your cart">
      <LiveNotice text={notice} />
      {current.items.length === 0 ? (
        <p>
          Your cart is empty. <a href={href('/')}>Browse the catalog</a>.
        </p>
      ) : (
        <>
          <table class="cart">
            <caption class="visually-hidden">Products in your cart</caption>
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col" class="num">
                  Unit price
                </th>
                <th scope="col">Quantity</th>
                <th scope="col" class="num">
                  Line total
                </th>
                <th scope="col">
                  <span class="visually-hidden">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {current.items.map((line) => (
                <CartLine key={line.productId} line={line} onChange={(next, text) => (setCurrent(next), setNotice(text))} />
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row" colSpan={3}>
                  Total ({current.itemCount} item{current.itemCount === 1 ? '' : 's'})
                </th>
                <td class="num total">{current.total ? <Money {...current.total} /> : 'Mixed currencies'}</td>
                <td />
              </tr>
            </tfoot>
          </table>
          <p class="muted">Shipping is free. Stock is checked again when you check out.</p>
          <Problem error={clear.error} />
          <div class="row actions">
            <a class="button" href={href('/checkout')}>
              Check out
            </a>
            <a class="button secondary" href={href('/')}>
              Continue shopping
            </a>
            <button type="button" class="secondary" disabled={clear.busy} onClick={() => void clear.go()}>
              Empty cart
            </button>
          </div>
        </>
      )}
    </Page>
  );
}

function CartLine({ line, onChange }: { line: Line; onChange: (cart: Cart, notice: string) => void }) {
  const [quantity, setQuantity] = useState(String(line.quantity));
  useEffect(() => setQuantity(String(line.quantity)), [line.quantity]);
  const id = `qty-${line.productId}`;
  const update = useAction(async () => {
    const next = await ok(api.PUT('/api/v1/cart/items/{productId}', { params: { path: { productId: line.productId } }, body: { quantity: Number(quantity) } }));
    onChange(next, `${line.name}: quantity ${quantity}.`);
  });
  const remove = useAction(async () => {
    onChange(await ok(api.DELETE('/api/v1/cart/items/{productId}', { params: { path: { productId: line.productId } } })), `${line.name} removed from your cart.`);
  });
  const warning = lineWarning(line);
  const problem = update.error ?? remove.error;
  return (
    <tr>
      <td>
        <ProductLink id={line.productId} name={line.name} />
        <div class="muted small">{line.sku}</div>
        {warning && <div class="warning">{warning}</div>}
        {problem !== undefined && <Problem error={problem} />}
      </td>
      <td class="num">
        <Money {...line.unitPrice} />
      </td>
      <td>
        <Form class="qty" noValidate onSubmit={() => void update.go()}>
          <label for={id} class="visually-hidden">
            Quantity of {line.name}
          </label>
          <input id={id} type="number" min={1} max={99} class="short" value={quantity} onInput={(e) => setQuantity(e.currentTarget.value)} />
          <button type="submit" class="secondary" disabled={update.busy || quantity === String(line.quantity)}>
            Update<span class="visually-hidden"> quantity of {line.name}</span>
          </button>
        </Form>
      </td>
      <td class="num">
        <Money {...line.lineTotal} />
      </td>
      <td>
        <button type="button" class="link" disabled={remove.busy} onClick={() => void remove.go()}>
          Remove<span class="visually-hidden"> {line.name}</span>
        </button>
      </td>
    </tr>
  );
}
