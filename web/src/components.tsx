import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { messageOf } from './api.ts';

/**
 * Loads data, again whenever `key` changes or `reload()` is called, and every `poll.ms` while
 * `poll.while(data)` holds (a run still moving).
 */
export function useLoad<T>(
  load: () => Promise<T>,
  key: string,
  poll?: { ms: number; while: (data: T) => boolean },
) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const pollRef = useRef(poll);
  pollRef.current = poll;
  // Only the newest request may set state: an older one that resolves late is dropped.
  const generation = useRef(0);

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const value = await loadRef.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(undefined);
    } catch (e) {
      if (mine === generation.current) setError(messageOf(e));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new key means other data to load
  useEffect(() => {
    setLoading(true);
    void reload();
  }, [key, reload]);

  useEffect(() => {
    const p = pollRef.current;
    if (!p || data === undefined || !p.while(data)) return;
    const timer = setTimeout(() => void reload(), p.ms);
    return () => clearTimeout(timer);
  }, [data, reload]);

  return { data, error, loading, reload };
}

const statusTone: Record<string, string> = {
  completed: 'ok',
  healthy: 'ok',
  active: 'ok',
  running: 'busy',
  exporting: 'busy',
  processing: 'busy',
  created: 'wait',
  scheduled: 'wait',
  queued: 'wait',
  waiting: 'wait',
  canceling: 'warn',
  canceled: 'muted',
  paused: 'muted',
  inactive: 'muted',
  errors: 'warn',
  failed: 'bad',
  interrupted: 'bad',
  unhealthy: 'bad',
};

export const toneOf = (status: string | undefined) => statusTone[status ?? ''] ?? 'muted';

export function StatusBadge(props: { status: string | undefined }) {
  const status = props.status ?? 'never run';
  return (
    <span className={`badge tone-${toneOf(props.status)}`} data-status={status}>
      {status}
    </span>
  );
}

export function ErrorBox(props: { error: string | undefined; onRetry?: () => void }) {
  if (!props.error) return null;
  return (
    <div className="error" role="alert">
      <strong>Error.</strong> {props.error}
      {props.onRetry && (
        <button type="button" className="link" onClick={props.onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty(props: { title: string; children: ReactNode }) {
  return (
    <div className="empty">
      <h3>{props.title}</h3>
      <div>{props.children}</div>
    </div>
  );
}

export function Loading() {
  return <p className="muted">Loading…</p>;
}

export function PageHeader(props: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle && <p className="muted">{props.subtitle}</p>}
      </div>
      {props.actions && <div className="actions">{props.actions}</div>}
    </header>
  );
}

export function Fields(props: { items: [string, ReactNode][] }) {
  return (
    <dl className="fields">
      {props.items.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A button that runs an async action, shows it is busy, and reports a failure next to itself. */
export function ActionButton(props: {
  label: string;
  busyLabel?: string;
  action: () => Promise<unknown>;
  kind?: 'primary' | 'danger' | 'plain';
  disabled?: boolean;
  onError?: (message: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    try {
      await props.action();
    } catch (e) {
      props.onError?.(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <button
      type="button"
      className={props.kind ?? 'plain'}
      disabled={busy || props.disabled}
      onClick={() => void run()}
    >
      {busy ? (props.busyLabel ?? `${props.label}…`) : props.label}
    </button>
  );
}
