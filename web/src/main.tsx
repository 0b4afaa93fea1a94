import { type ReactNode, StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { get, session } from './api.ts';
import { BulkRunPage } from './pages/bulk-run.tsx';
import { BulkSyncDetailPage } from './pages/bulk-sync-detail.tsx';
import { BulkSyncFormPage } from './pages/bulk-sync-form.tsx';
import { BulkSyncsPage } from './pages/bulk-syncs.tsx';
import { ConnectionDetailPage } from './pages/connection-detail.tsx';
import { ConnectionFormPage } from './pages/connection-form.tsx';
import { ConnectionsPage } from './pages/connections.tsx';
import { ModelRunPage } from './pages/model-run.tsx';
import { ModelSyncDetailPage } from './pages/model-sync-detail.tsx';
import { ModelSyncsPage } from './pages/model-syncs.tsx';
import { RunsPage } from './pages/runs.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { Link, match, navigate, usePath } from './router.tsx';
import './styles.css';

interface Identity {
  organization_name?: string;
  email?: string;
}

const routes: [string, (p: Record<string, string>) => ReactNode][] = [
  ['/connections', () => <ConnectionsPage />],
  ['/connections/new', () => <ConnectionFormPage />],
  ['/connections/:id', (p) => <ConnectionDetailPage id={p.id!} />],
  ['/bulk-syncs', () => <BulkSyncsPage />],
  ['/bulk-syncs/new', () => <BulkSyncFormPage />],
  ['/bulk-syncs/:id', (p) => <BulkSyncDetailPage id={p.id!} />],
  ['/bulk-syncs/:id/executions/:execId', (p) => <BulkRunPage syncId={p.id!} executionId={p.execId!} />],
  ['/model-syncs', () => <ModelSyncsPage />],
  ['/model-syncs/:id', (p) => <ModelSyncDetailPage id={p.id!} />],
  ['/model-syncs/:id/executions/:execId', (p) => <ModelRunPage syncId={p.id!} executionId={p.execId!} />],
  ['/runs', () => <RunsPage />],
];

const nav = [
  ['/bulk-syncs', 'Bulk syncs'],
  ['/model-syncs', 'Model syncs'],
  ['/runs', 'Runs'],
  ['/connections', 'Connections'],
] as const;

function App() {
  const path = usePath();
  const [signedIn, setSignedIn] = useState(session.key() !== null);
  const [identity, setIdentity] = useState<Identity | undefined>(undefined);

  useEffect(() => {
    const onUnauthorized = () => {
      session.signOut();
      setSignedIn(false);
    };
    window.addEventListener('ferry:unauthorized', onUnauthorized);
    return () => window.removeEventListener('ferry:unauthorized', onUnauthorized);
  }, []);
  useEffect(() => {
    if (signedIn) get<Identity>('/me').then(setIdentity, () => undefined);
  }, [signedIn]);

  if (!signedIn) return <SignInPage onSignedIn={() => setSignedIn(true)} />;
  if (path === '/') {
    navigate('/bulk-syncs');
    return null;
  }
  let page: ReactNode = (
    <div className="empty">
      <h3>Page not found</h3>
      <p>
        Nothing lives at <code>{path}</code>. Go to <Link to="/bulk-syncs">bulk syncs</Link>.
      </p>
    </div>
  );
  for (const [pattern, render] of routes) {
    const params = match(pattern, path);
    if (params) {
      page = render(params);
      break;
    }
  }
  const signOut = () => {
    session.signOut();
    setSignedIn(false);
    navigate('/');
  };
  return (
    <div className="layout">
      <aside className="sidebar">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} /> Ferry
        </div>
        <nav>
          {nav.map(([to, label]) => (
            <Link key={to} to={to} className={path.startsWith(to) ? 'current' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <div className="who">
          {identity?.organization_name && <div className="muted">{identity.organization_name}</div>}
          {identity?.email && <div className="muted small">{identity.email}</div>}
          <button type="button" className="link" onClick={signOut}>
            Sign out
          </button>
        </div>
      </aside>
      <main key={path}>{page}</main>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
