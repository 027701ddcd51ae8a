import { useRef, useState } from 'preact/hooks';
import { TestTokens } from '../../../../domain/payment';
import { api, ApiProblem, ok, type Schemas } from '../../api';
import { href, navigate } from '../../router';
import { useSession } from '../../session';
import { Form, Loading, Money, Page, Problem, useAction, useLoad } from '../../ui';
import { lineWarning } from './cart';
import { fieldError, newKey, TextField } from './parts';

type Address = Schemas['ShippingAddress'];

/** The simulated gateway's test cards, in words a shopper understands. */
export const TEST_CARDS: { token: string; label: string; hint: string }[] = [
  { token: TestTokens.success, label: 'Test card that succeeds', hint: 'The payment is authorised at once.' },
  { token: TestTokens.declined, label: 'Test card that is declined', hint: 'The bank says no: nothing is ordered and your cart keeps its items.' },
  { token: TestTokens.insufficientFunds, label: 'Test card without enough funds', hint: 'Declined for insufficient funds.' },
  { token: TestTokens.expired, label: 'Test card that has expired', hint: 'Declined as an expired card.' },
  { token: TestTokens.slow, label: 'Test card with a slow bank', hint: 'The payment takes a few seconds; you can follow the order while it is confirmed.' },
];

const COUNTRIES: [string, string][] = [
  ['US', 'United States'],
  ['GB', 'United Kingdom'],
  ['CA', 'Canada'],
  ['DE', 'Germany'],
  ['FR', 'France'],
  ['NL', 'Netherlands'],
  ['IE', 'Ireland'],
  ['AU', 'Australia'],
];

/** What the visitor can do about a refused checkout, in plain words (the API's message is shown with it). */
function advice(error: unknown): string | undefined {
  if (!(error instanceof ApiProblem)) return undefined;
  switch (error.code) {
    case 'PAYMENT_DECLINED':
      return 'Your card was declined, so nothing was ordered or charged. Your cart still holds your items: choose another card and try again.';
    case 'INVENTORY_UNAVAILABLE':
      return 'Some of your cart is not in stock in that quantity, so nothing was ordered. Lower the quantity in your cart and try again.';
    case 'CART_EMPTY':
      return 'Your cart is empty: add products first.';
    case 'PRODUCT_INACTIVE':
    case 'PRODUCT_NOT_FOUND':
      return 'A product in your cart is no longer for sale: remove it from your cart.';
    default:
      return undefined;
  }
}

export function CheckoutPage() {
  const { account } = useSession();
  const cart = useLoad(() => ok(api.GET('/api/v1/cart')), []);
  const [address, setAddress] = useState<Address>({ name: '', line1: '', line2: '', city: '', postalCode: '', country: 'US' });
  const [token, setToken] = useState<string>(TestTokens.success);
  /**
   * One Idempotency-Key per checkout attempt: kept when the answer never came
   * (a retry then cannot order twice), replaced once the API has answered or the request changes.
   */
  const key = useRef<{ key: string; body: string } | undefined>(undefined);

  const place = useAction(async () => {
    const body = { shippingAddress: { ...address, line2: address.line2 || undefined }, paymentMethod: { token } };
    const serialised = JSON.stringify(body);
    if (!key.current || key.current.body !== serialised) key.current = { key: newKey(), body: serialised };
    try {
      const outcome = await ok(api.POST('/api/v1/checkout', { params: { header: { 'idempotency-key': key.current.key } }, body }));
      key.current = undefined;
      // 201 CONFIRMED, or 202 PENDING (the payment is still being decided): the order page follows it live
      navigate(`/orders/${outcome.orderId}`, outcome.status === 'PENDING' ? { placed: 'pending' } : { placed: '1' });
    } catch (err) {
      // an answer (not an unreachable API, not a server fault) ends this attempt; the next one gets a new key
      if (err instanceof ApiProblem && err.status >= 400 && err.status < 500) key.current = undefined;
      cart.reload();
      throw err;
    }
  });

  const set = (field: keyof Address) => (e: { currentTarget: { value: string } }) => setAddress({ ...address, [field]: e.currentTarget.value });
  const err = place.error;
  const fe = (f: string) => fieldError(err, f);

  if (cart.error) {
    return (
      <Page title="Checkout">
        <Problem error={cart.error} />
      </Page>
    );
  }
  if (!cart.data) return <Loading what="Loading your cart" />;
  const items = cart.data.items;
  const said = advice(err);

  return (
    <Page title="Checkout">
      {items.length === 0 && !place.busy ? (
        <p>
          Your cart is empty. <a href={href('/')}>Browse the catalog</a>.
        </p>
      ) : (
        <div class="checkout">
          <section class="panel summary" aria-labelledby="summary-h">
            <h2 id="summary-h">Your order</h2>
            <ul class="plain">
              {items.map((i) => (
                <li key={i.productId}>
                  {i.quantity} × {i.name} — <Money {...i.lineTotal} />
                  {lineWarning(i) && <div class="warning">{lineWarning(i)}</div>}
                </li>
              ))}
            </ul>
            <p class="total">
              Total: {cart.data.total ? <Money {...cart.data.total} /> : 'mixed currencies'} <span class="muted">(shipping is free)</span>
            </p>
            <p>
              <a href={href('/cart')}>Change your cart</a>
            </p>
          </section>

          <Form noValidate onSubmit={() => void place.go()}>
            {err !== undefined && (
              <div class="problem" role="alert" id="checkout-problem">
                <strong>{err instanceof ApiProblem || err instanceof Error ? err.message : 'Something went wrong.'}</strong>
                {err instanceof ApiProblem && err.code !== 'UNREACHABLE' && <span class="code"> ({err.code})</span>}
                {said && <p>{said}</p>}
                {err instanceof ApiProblem && err.code === 'VALIDATION_FAILED' && <p>Please correct the fields marked below.</p>}
              </div>
            )}
            <fieldset>
              <legend>Shipping address</legend>
              <TextField id="ship-name" label="Full name" autoComplete="name" required value={address.name} onInput={set('name')} error={fe('name')} />
              <TextField id="ship-line1" label="Address line 1" autoComplete="address-line1" required value={address.line1} onInput={set('line1')} error={fe('line1')} />
              <TextField id="ship-line2" label="Address line 2 (optional)" autoComplete="address-line2" value={address.line2} onInput={set('line2')} error={fe('line2')} />
              <TextField id="ship-city" label="City" autoComplete="address-level2" required value={address.city} onInput={set('city')} error={fe('city')} />
              <TextField id="ship-postal" label="Postal code" autoComplete="postal-code" required class="short" value={address.postalCode} onInput={set('postalCode')} error={fe('postalCode')} />
              <div class="field">
                <label for="ship-country">Country</label>
                <select id="ship-country" autoComplete="country" value={address.country} onChange={set('country')}>
                  {COUNTRIES.map(([code, name]) => (
                    <option key={code} value={code}>
                      {name}
                    </option>
                  ))}
                </select>
              </div>
            </fieldset>

            <fieldset>
              <legend>Payment (simulated test cards)</legend>
              <p class="hint">This shop runs against a simulated payment provider: pick how the card should behave. No real card is used.</p>
              {TEST_CARDS.map((card) => (
                <div class="choice" key={card.token}>
                  <input
                    type="radio"
                    id={`card-${card.token}`}
                    name="card"
                    value={card.token}
                    checked={token === card.token}
                    aria-describedby={`card-${card.token}-hint`}
                    onChange={() => setToken(card.token)}
                  />
                  <label for={`card-${card.token}`}>{card.label}</label>
                  <small id={`card-${card.token}-hint`} class="hint">
                    {card.hint}
                  </small>
                </div>
              ))}
              <p class="hint">
                Out of stock: any card. When a quantity in your cart is more than the stock shown on the product page, the order is refused as out of stock and
                nothing is charged.
              </p>
            </fieldset>

            <button type="submit" disabled={place.busy || account === null}>
              {place.busy ? 'Placing your order…' : 'Place order'}
            </button>
            {place.busy && (
              <p class="loading" role="status">
                Reserving stock and asking your bank…
              </p>
            )}
          </Form>
        </div>
      )}
    </Page>
  );
}
