import { type BulkExecution, send } from '../api.ts';
import { ActionButton, Empty, Fields, StatusBadge } from '../components.tsx';
import { activeStatuses, count, duration, durationMs, when } from '../format.ts';
import { RunPage, type RunView } from '../run-page.tsx';
import { TableProgress } from '../table-progress.tsx';

export function BulkRunPage(props: { syncId: string; executionId: string }) {
  return (
    <RunPage<BulkExecution>
      route={`/bulk/syncs/${props.syncId}/executions/${props.executionId}`}
      syncHref={`/bulk-syncs/${props.syncId}`}
      exportable
    >
      {(view) => <BulkRunBody syncId={props.syncId} {...view} />}
    </RunPage>
  );
}

function BulkRunBody({
  syncId,
  run,
  live,
  reload,
  setActionError,
}: RunView<BulkExecution> & { syncId: string }) {
  // Cancels one table of the sync's active run; the others carry on.
  const cancelTable = async (schema: string) => {
    await send('POST', `/bulk/syncs/${syncId}/schemas/${encodeURIComponent(schema)}/cancel`);
    await reload();
  };
  const tables = run.schemas ?? [];
  const done = tables.filter((t) => !activeStatuses.has(t.status)).length;

  return (
    <>
      {run.status_message && (
        <div className={`notice tone-${run.error_count ? 'bad' : 'muted'}`}>{run.status_message}</div>
      )}
      <section className="card">
        <Fields
          items={[
            [
              'Rows',
              <span key="r" data-testid="run-rows">
                {count(run.record_count)}
              </span>,
            ],
            ['Errors', count(run.error_count)],
            ['Warnings', count(run.warning_count)],
            ['Duration', duration(durationMs(run.started_at, run.completed_at))],
            ['Started', when(run.started_at)],
            ['Finished', when(run.completed_at)],
            [
              'Type',
              [run.type, run.is_resync ? 'resync' : '', run.is_test ? 'test' : '']
                .filter(Boolean)
                .join(' · '),
            ],
            ['Attempt', String(run.attempts ?? 1)],
          ]}
        />
      </section>

      <div className="section-title">
        <h2>Tables</h2>
        {tables.length > 0 && (
          <span className="muted">
            {done} of {tables.length} finished
          </span>
        )}
      </div>
      {tables.length > 0 && (
        <div
          className="progress"
          role="progressbar"
          aria-label="tables finished"
          aria-valuemin={0}
          aria-valuemax={tables.length}
          aria-valuenow={done}
        >
          <div style={{ width: `${(100 * done) / tables.length}%` }} />
        </div>
      )}
      {tables.length === 0 ? (
        <Empty title="No tables yet">The run lists its tables once a worker picks it up.</Empty>
      ) : (
        <table data-testid="run-tables">
          <thead>
            <tr>
              <th>Table</th>
              <th>Status</th>
              <th>Rows</th>
              <th>Progress</th>
              <th>Errors</th>
              <th>Duration</th>
              <th>Message</th>
            </tr>
          </thead>
          <tbody>
            {tables.map((t) => (
              <tr key={t.schema} data-table={t.schema}>
                <td>
                  {t.schema}
                  {t.output_name && t.output_name !== t.schema && (
                    <div className="muted small">→ {t.output_name}</div>
                  )}
                </td>
                <td>
                  <StatusBadge status={t.status} />
                </td>
                <td className="num">{count(t.record_count)}</td>
                <td>
                  <TableProgress table={t} />
                </td>
                <td className="num">{count(t.error_count)}</td>
                <td>{duration(durationMs(t.started_at, t.completed_at))}</td>
                <td className="small">
                  {t.status_message ?? ''}
                  {live && activeStatuses.has(t.status) && (
                    <ActionButton
                      label="Cancel table"
                      kind="danger"
                      action={() => cancelTable(t.schema)}
                      onError={setActionError}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
