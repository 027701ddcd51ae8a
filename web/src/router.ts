import { useEffect, useState } from 'preact/hooks';

/**
 * Routes live in the URL's fragment (#/orders/…): one HTML document, so the
 * server keeps no copy of the client's route list.
 */
export interface Location {
  path: string;
  query: URLSearchParams;
}

const read = (): Location => {
  const raw = window.location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?', 2);
  return { path: path || '/', query: new URLSearchParams(query) };
};

export function useLocation(): Location {
  const [location, setLocation] = useState(read);
  useEffect(() => {
    const onChange = () => setLocation(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return location;
}

/** The href of a route: `href('/orders/' + id)`, with an optional query. */
export const href = (path: string, query?: Record<string, string | number | undefined>): string => {
  const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => [k, String(v)])).toString() : '';
  return `#${path}${q ? `?${q}` : ''}`;
};

/** The route of a product's page in the storefront. */
export const productPath = (id: string): string => `/products/${encodeURIComponent(id)}`;

export const navigate = (path: string, query?: Record<string, string | number | undefined>): void => {
  window.location.hash = href(path, query).slice(1);
};

/** The parameters of `path` under `pattern` ('/orders/:id'), or null when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return null;
  }
  return params;
}

/** A page the app can show: where it is, who may see it, and what draws it. */
export interface RouteDef {
  pattern: string;
  /** 'customer': any logged-in account; 'admin': the admin role; absent: anyone */
  needs?: 'customer' | 'admin';
  view: (props: { params: Record<string, string>; query: URLSearchParams }) => preact.JSX.Element;
}
