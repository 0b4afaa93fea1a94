import { type ReactNode, useState } from 'react';
import { get, send } from './api.ts';
import { ActionButton, ErrorBox, Loading, PageHeader, StatusBadge, useLoad } from './components.tsx';
import { ConsoleLog } from './console-log.tsx';
import { activeStatuses } from './format.ts';
import { RecordLogs } from './record-logs.tsx';
import { Link } from './router.tsx';

/** What a run page's own part gets: the run, whether it still moves, and the page's reload and errors. */
export interface RunView<E> {
  run: E;
  live: boolean;
  reload: () => Promise<void>;
  setActionError: (message: string) => void;
}

/**
 * The frame of a run page, bulk or model: the run polled while it moves, its status and a cancel
 * button, then the page's own part, the console log and the record logs.
 */
export function RunPage<E extends { id: string; status?: string }>(props: {
  /** The execution's API route (without /api). */
  route: string;
  syncHref: string;
  /** Record logs can be exported as one archive (bulk runs). */
  exportable?: boolean;
  children: (view: RunView<E>) => ReactNode;
}) {
  const { route } = props;
  const {
    data: run,
    error,
    reload,
  } = useLoad(() => get<E>(route), route, {
    ms: 1000,
    while: (e) => activeStatuses.has(e.status ?? ''),
  });
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  if (!run) return error ? <ErrorBox error={error} onRetry={reload} /> : <Loading />;

  const live = activeStatuses.has(run.status ?? '');
  const cancel = async () => {
    await send('POST', `${route}/cancel`);
    await reload();
  };
  return (
    <>
      <PageHeader
        title={
          <>
            Run <StatusBadge status={run.status} />
          </>
        }
        subtitle={
          <>
            <Link to={props.syncHref}>← back to the sync</Link> · {run.id}
          </>
        }
        actions={
          live && (
            <ActionButton
              label="Cancel run"
              busyLabel="Canceling…"
              kind="danger"
              disabled={run.status === 'canceling'}
              action={cancel}
              onError={setActionError}
            />
          )
        }
      />
      <ErrorBox error={actionError ?? error} />
      {props.children({ run, live, reload, setActionError })}
      <ConsoleLog route={`${route}/consolelog`} live={live} />
      <RecordLogs route={route} finished={!live} exportable={props.exportable} />
    </>
  );
}
