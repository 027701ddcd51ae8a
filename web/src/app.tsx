import { useEffect } from 'preact/hooks';
import { consoleRoutes } from './pages/console';
import { storeRoutes } from './pages/store';
import { href, match, navigate, useLocation, type RouteDef } from './router';
import { SessionProvider, useSession } from './session';
import { Loading, Page } from './ui';

const routes: RouteDef[] = [...storeRoutes, ...consoleRoutes];

function Header() {
  const { account, logOut } = useSession();
  return (
    <header class="site">
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <a class="brand" href={href('/')}>
        Shop
      </a>
      <nav aria-label="Main">
        <ul>
          <li><a href={href('/')}>Catalog</a></li>
          {account && <li><a href={href('/cart')}>Cart</a></li>}
          {account && <li><a href={href('/orders')}>My orders</a></li>}
          {account?.role === 'ADMIN' && <li><a href={href('/console')}>Console</a></li>}
          {account === null && <li><a href={href('/login')}>Log in</a></li>}
          {account === null && <li><a href={href('/register')}>Register</a></li>}
          {account && (
            <li>
              <button type="button" class="link" onClick={() => void logOut().then(() => navigate('/'))}>
                Log out <span class="who">({account.email})</span>
              </button>
            </li>
          )}
        </ul>
      </nav>
    </header>
  );
}

function Routed() {
  const { path, query } = useLocation();
  const { account } = useSession();
  useEffect(() => window.scrollTo(0, 0), [path]);
  for (const route of routes) {
    const params = match(route.pattern, path);
    if (!params) continue;
    if (route.needs && account === undefined) return <Loading what="Checking your session" />;
    if (route.needs && account === null) {
      navigate('/login', { next: path });
      return <Loading what="Redirecting to log in" />;
    }
    if (route.needs === 'admin' && account?.role !== 'ADMIN') {
      return (
        <Page title="Not allowed">
          <p>This page is for operators. Log in with an admin account.</p>
        </Page>
      );
    }
    const View = route.view;
    return <View params={params} query={query} />;
  }
  return (
    <Page title="Page not found">
      <p>
        Nothing lives at <code>{path}</code>. <a href={href('/')}>Back to the catalog</a>.
      </p>
    </Page>
  );
}

export function App() {
  return (
    <SessionProvider>
      <Header />
      <main id="main" tabIndex={-1}>
        <Routed />
      </main>
    </SessionProvider>
  );
}
