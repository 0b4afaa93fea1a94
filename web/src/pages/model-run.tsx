import { useState } from 'react';
import { get, type ModelExecution, send } from '../api.ts';
import { ActionButton, ErrorBox, Fields, Loading, PageHeader, StatusBadge, useLoad } from '../components.tsx';
import { ConsoleLog } from '../console-log.tsx';
import { activeStatuses, count, duration, durationMs, when } from '../format.ts';
import { RecordLogs } from '../record-logs.tsx';
import { Link } from '../router.tsx';

export function ModelRunPage(props: { syncId: string; executionId: string }) {
  const route = `/syncs/${props.syncId}/executions/${props.executionId}`;
  const {
    data: run,
    error,
    reload,
  } = useLoad(() => get<ModelExecution>(route), route, {
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
  const counts = run.counts ?? {};
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
            <Link to={`/model-syncs/${props.syncId}`}>← back to the sync</Link> · {run.id}
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
      <section className="card">
        <Fields
          items={[
            ['Records', count(counts.total)],
            ['Inserted', count(counts.insert)],
            ['Updated', count(counts.update)],
            ['Deleted', count(counts.delete)],
            ['Errors', count(counts.error)],
            ['Warnings', count(counts.warnings)],
            ['Duration', duration(durationMs(run.started_at, run.completed_at))],
            ['Started', when(run.started_at)],
            ['Finished', when(run.completed_at)],
            ['Type', run.type ?? '–'],
          ]}
        />
      </section>
      {(run.errors ?? []).length > 0 && (
        <div className="error" role="alert">
          {run.errors!.map((message) => (
            <div key={message}>{message}</div>
          ))}
        </div>
      )}
      <ConsoleLog route={`${route}/consolelog`} live={live} />
      <RecordLogs route={route} finished={!live} />
    </>
  );
}
