import { type FormEvent, useState } from 'react';
import { ApiError, get, messageOf, session } from '../api.ts';

export function SignInPage(props: { onSignedIn: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    session.signIn(key.trim());
    try {
      await get('/me');
      props.onSignedIn();
    } catch (e) {
      session.signOut();
      setError(
        e instanceof ApiError && e.status === 401
          ? 'This API key was not accepted: check it and try again.'
          : messageOf(e),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="sign-in">
      <form onSubmit={(e) => void submit(e)} className="card">
        <h1>
          <img src="/favicon.svg" alt="" width={28} height={28} /> Ferry
        </h1>
        <p className="muted">
          Sign in with an API key. The first <code>ferry serve</code> prints the admin key; organization keys
          are created with <code>ferry keys create</code> or the API. The key stays in this browser tab only.
        </p>
        <label>
          API key
          <input
            name="apiKey"
            type="password"
            autoComplete="off"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            placeholder="fy_…"
            required
          />
        </label>
        {error && (
          <div className="error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" className="primary" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
