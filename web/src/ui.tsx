import { Fragment, type ComponentChildren, type FormHTMLAttributes, type InputHTMLAttributes, type VNode } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiProblem } from './api';
import { href, productPath } from './router';

/** The first block of a uuid: enough to tell orders apart on screen. */
export const shortId = (id: string): string => id.slice(0, 8);

/** Integer minor units and a currency, as the API sends money, in the reader's locale. */
export function formatMoney(amount: number, currency: string): string {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount / 10 ** digits);
}

export const Money = ({ amount, currency }: { amount: number; currency: string }) => <span class="money">{formatMoney(amount, currency)}</span>;

/** A product's name, linking to its page in the storefront. */
export const ProductLink = ({ id, name }: { id: string; name: string }) => <a href={href(productPath(id))}>{name}</a>;

/** A page: its title (the document's too) as a heading that takes focus when the page opens, for keyboard and screen-reader users. */
export function Page({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Shop`;
    heading.current?.focus();
  }, [title]);
  return (
    <section aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title" tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** The API's refusal where it applies: its message, and its code for support. */
export function Problem({ error }: { error: unknown }) {
  if (!error) return null;
  const problem = error instanceof ApiProblem ? error : new ApiProblem(0, 'ERROR', error instanceof Error ? error.message : 'Something went wrong.');
  return (
    <div class="problem" role="alert">
      <strong>{problem.message}</strong>
      {problem.code !== 'UNREACHABLE' && <span class="code"> ({problem.code})</span>}
    </div>
  );
}

export const Loading = ({ what = 'Loading' }: { what?: string }) => (
  <p class="loading" role="status">
    {what}…
  </p>
);

/** A labelled input: the label names it for assistive technology, the hint is read with it. */
export function Field({ label, hint, ...input }: { label: string; hint?: string } & InputHTMLAttributes<HTMLInputElement>) {
  const id = `f-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

/** ORDER_PLACED → "ORDER PLACED": a code in words, its capitals kept (badges, operators' lists). */
export const codeWords = (code: string): string => code.replace(/_/g, ' ');

/** ORDER_PLACED → "Order placed". */
export const humanize = (code: string): string => {
  const words = codeWords(code).toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

export const StatusBadge = ({ status }: { status: string }) => <span class={`status status-${status.toLowerCase()}`}>{codeWords(status)}</span>;

/** A moment as every page shows it, in the reader's locale. */
export const formatDate = (iso: string): string =>
  new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));

/** A moment in a <time> element; a dash when there is none (yet). */
export const DateTime = ({ at }: { at: string | null | undefined }) =>
  at ? <time dateTime={at}>{formatDate(at)}</time> : <span class="muted">—</span>;

/** A section of a page, named by its heading (`${id}-h`) for assistive technology. */
export const Section = ({ id, title, children, class: cls }: { id: string; title: ComponentChildren; children: ComponentChildren; class?: string }) => (
  <section aria-labelledby={`${id}-h`} class={cls}>
    <h2 id={`${id}-h`}>{title}</h2>
    {children}
  </section>
);

/** A form handled on the page: submitting runs `onSubmit`, never a navigation. */
export function Form({ onSubmit, children, ...form }: Omit<FormHTMLAttributes<HTMLFormElement>, 'onSubmit'> & { onSubmit: () => void }) {
  return (
    <form
      {...form}
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {children}
    </form>
  );
}

/** A polite live region that stays in the document, so that a notice put in it is read out. */
export const LiveNotice = ({ text }: { text: string | undefined }) => <div role="status">{text && <p class="notice">{text}</p>}</div>;

/** One column of a Table: its header, and its cell in each row (absent when `row` draws the rows). */
export interface Column<R> {
  head: ComponentChildren;
  cell?: (row: R) => ComponentChildren;
  /** figures: aligned right */
  num?: boolean;
  /** the cell names its row (a row header) */
  rowHeader?: boolean;
  class?: string;
}

/**
 * A table of `rows`: column headers, a cell per column (or `row` draws each row),
 * an optional caption (`hideCaption`: for assistive technology only) and footer,
 * in a horizontally scrolling wrapper.
 */
export function Table<R>({
  columns,
  rows,
  rowKey,
  row,
  caption,
  hideCaption,
  foot,
  class: cls,
}: {
  columns: Column<R>[];
  rows: R[];
  rowKey: (row: R, index: number) => string | number;
  row?: (row: R) => VNode;
  caption?: ComponentChildren;
  hideCaption?: boolean;
  foot?: ComponentChildren;
  class?: string;
}) {
  const cellClass = (c: Column<R>) => [c.num ? 'num' : '', c.class ?? ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="table-wrap">
      <table class={cls}>
        {caption !== undefined && <caption class={hideCaption ? 'visually-hidden' : undefined}>{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th key={i} scope="col" class={c.num ? 'num' : undefined}>
                {c.head}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) =>
            row ? (
              <Fragment key={rowKey(r, i)}>{row(r)}</Fragment>
            ) : (
              <tr key={rowKey(r, i)}>
                {columns.map((c, j) =>
                  c.rowHeader ? (
                    <th key={j} scope="row" class={cellClass(c)}>
                      {c.cell?.(r)}
                    </th>
                  ) : (
                    <td key={j} class={cellClass(c)}>
                      {c.cell?.(r)}
                    </td>
                  ),
                )}
              </tr>
            ),
          )}
        </tbody>
        {foot && <tfoot>{foot}</tfoot>}
      </table>
    </div>
  );
}

/** Loads with `load` whenever `deps` change; `reload` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => current && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { ...state, reload };
}

/** An action's button state: busy while it runs, its refusal kept to show. */
export function useAction<A extends unknown[]>(run: (...args: A) => Promise<unknown>): { busy: boolean; error: unknown; go: (...args: A) => Promise<boolean> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const go = async (...args: A) => {
    setBusy(true);
    setError(undefined);
    try {
      await run(...args);
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, go };
}

/** A Previous / Next pager over cursor pages: the cursors seen so far make the way back. */
export function useCursorPages(resetKey: string) {
  const [state, setState] = useState<{ key: string; stack: (string | undefined)[] }>({ key: resetKey, stack: [undefined] });
  const stack = state.key === resetKey ? state.stack : [undefined];
  return {
    cursor: stack[stack.length - 1],
    page: stack.length,
    next: (cursor: string) => setState({ key: resetKey, stack: [...stack, cursor] }),
    previous: () => setState({ key: resetKey, stack: stack.slice(0, -1) }),
  };
}

/** The buttons of useCursorPages: the page a list is on, and the way to the pages around it. */
export function Pager({ page, nextCursor, onNext, onPrevious, label }: { page: number; nextCursor: string | null | undefined; onNext: (c: string) => void; onPrevious: () => void; label: string }) {
  return (
    <nav class="pager" aria-label={label}>
      <button type="button" class="secondary" disabled={page <= 1} onClick={onPrevious}>
        Previous page
      </button>
      <span>Page {page}</span>
      <button type="button" class="secondary" disabled={!nextCursor} onClick={() => nextCursor && onNext(nextCursor)}>
        Next page
      </button>
    </nav>
  );
}

/** A pager whose pages live in the URL (?cursor=…): a link back to the first page and one to the next, each when there is one. */
export const PageLinks = ({ label, first, next }: { label: string; first?: [href: string, text: string]; next?: [href: string, text: string] }) => (
  <nav class="pager" aria-label={label}>
    {first && <a href={first[0]}>{first[1]}</a>}
    {next && <a href={next[0]}>{next[1]}</a>}
  </nav>
);
