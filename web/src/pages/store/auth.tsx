import { useState } from 'preact/hooks';
import { href, navigate } from '../../router';
import { useSession } from '../../session';
import { Form, Page, Problem, useAction } from '../../ui';
import { fieldError, isFieldProblem, TextField } from './parts';

/** Only a path inside this app (#/...), never another site. */
const safeNext = (next: string | null): string => (next && next.startsWith('/') && !next.startsWith('//') ? next : '/');

function AccountForm({ mode, query }: { mode: 'login' | 'register'; query: URLSearchParams }) {
  const { account, logIn, register } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const next = safeNext(query.get('next'));
  const action = useAction(async () => {
    if (mode === 'login') await logIn(email, password);
    else await register(email, password);
    navigate(next);
  });
  const err = action.error;
  const isLogin = mode === 'login';
  const codes = isLogin ? [] : ['EMAIL_TAKEN'];
  const title = isLogin ? 'Log in' : 'Create an account';

  return (
    <Page title={title}>
      {account && (
        <p class="notice">
          You are logged in as {account.email}. <a href={href(next)}>Continue</a>.
        </p>
      )}
      {err !== undefined && !isFieldProblem(err, codes) && (
        <Problem error={err} />
      )}
      {err !== undefined && isFieldProblem(err, codes) && (
        <div class="problem" role="alert">
          <strong>Please correct the fields marked below.</strong>
        </div>
      )}
      <Form class="narrow" noValidate onSubmit={() => void action.go()}>
        <TextField
          id={`${mode}-email`}
          label="Email"
          type="email"
          name="email"
          autoComplete={isLogin ? 'username' : 'email'}
          required
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
          error={fieldError(err, 'email', codes)}
        />
        <TextField
          id={`${mode}-password`}
          label="Password"
          type="password"
          name="password"
          autoComplete={isLogin ? 'current-password' : 'new-password'}
          required
          hint={isLogin ? undefined : 'At least 8 characters.'}
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          error={fieldError(err, 'password')}
        />
        <button type="submit" disabled={action.busy}>
          {action.busy ? (isLogin ? 'Logging in…' : 'Creating account…') : title}
        </button>
      </Form>
      <p>
        {isLogin ? (
          <>
            New here? <a href={href('/register', { next: next === '/' ? undefined : next })}>Create an account</a>.
          </>
        ) : (
          <>
            Already have an account? <a href={href('/login', { next: next === '/' ? undefined : next })}>Log in</a>.
          </>
        )}
      </p>
    </Page>
  );
}

export const LoginPage = ({ query }: { query: URLSearchParams }) => <AccountForm mode="login" query={query} />;
export const RegisterPage = ({ query }: { query: URLSearchParams }) => <AccountForm mode="register" query={query} />;
