import { createContext } from 'preact';
import type { ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { api, ok, SESSION_LOST, type Schemas } from './api';

export type Account = Schemas['User'];

interface Session {
  /** undefined while the first GET /users/me is under way; null when nobody is logged in */
  account: Account | null | undefined;
  logIn: (email: string, password: string) => Promise<Account>;
  register: (email: string, password: string) => Promise<Account>;
  logOut: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside <SessionProvider>');
  return session;
}

/**
 * Who is logged in. The session is an HttpOnly, SameSite=Strict cookie set
 * by POST /api/v1/users/session: script on the page never holds the token.
 */
export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [account, setAccount] = useState<Account | null | undefined>(undefined);

  useEffect(() => {
    api.GET('/api/v1/users/me').then(
      ({ data }) => setAccount(data ?? null),
      () => setAccount(null),
    );
    const lost = () => setAccount(null);
    window.addEventListener(SESSION_LOST, lost);
    return () => window.removeEventListener(SESSION_LOST, lost);
  }, []);

  const logIn = useCallback(async (email: string, password: string) => {
    const signedIn = await ok(api.POST('/api/v1/users/session', { body: { email, password } }));
    setAccount(signedIn);
    return signedIn;
  }, []);

  const register = useCallback(
    async (email: string, password: string) => {
      await ok(api.POST('/api/v1/users/register', { body: { email, password } }));
      return logIn(email, password);
    },
    [logIn],
  );

  const logOut = useCallback(async () => {
    await ok(api.POST('/api/v1/users/me/logout'));
    setAccount(null);
  }, []);

  return <SessionContext.Provider value={{ account, logIn, register, logOut }}>{children}</SessionContext.Provider>;
}
