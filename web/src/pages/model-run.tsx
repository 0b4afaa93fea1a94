import type { ModelExecution } from '../api.ts';
import { Fields } from '../components.tsx';
import { count, duration, durationMs, when } from '../format.ts';
import { RunPage } from '../run-page.tsx';

export function ModelRunPage(props: { syncId: string; executionId: string }) {
  return (
    <RunPage<ModelExecution>
      route={`/syncs/${props.syncId}/executions/${props.executionId}`}
      syncHref={`/model-syncs/${props.syncId}`}
    >
      {({ run }) => {
        const counts = run.counts ?? {};
        return (
          <>
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
          </>
        );
      }}
    </RunPage>
  );
}
