import { useState } from 'react';
import { type Connection, get, type ModelExecution, type ModelSync, type SyncStatus, send } from '../api.ts';
import {
  ActionButton,
  Empty,
  ErrorBox,
  Fields,
  Loading,
  PageHeader,
  StatusBadge,
  useLoad,
} from '../components.tsx';
import { activeStatuses, scheduleText, when } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { modelRunSummary } from '../run-summaries.ts';
import { RunChart, RunTimeline } from '../runs-view.tsx';

interface Detail {
  sync: ModelSync;
  status: SyncStatus<ModelExecution>;
  executions: ModelExecution[];
  target: Connection | undefined;
  /** The names of the sync's models, by id. */
  models: Map<string, string>;
}

async function loadDetail(id: string): Promise<Detail> {
  const [sync, status, executions] = await Promise.all([
    get<ModelSync>(`/syncs/${id}`),
    get<SyncStatus<ModelExecution>>(`/syncs/${id}/status`),
    get<ModelExecution[]>(`/syncs/${id}/executions`),
  ]);
  const [target, models] = await Promise.all([
    sync.target?.connection_id
      ? get<Connection>(`/connections/${sync.target.connection_id}`).catch(() => undefined)
      : undefined,
    Promise.all(
      (sync.model_ids ?? []).map((modelId) =>
        get<{ id: string; name: string }>(`/models/${modelId}`).then(
          (model) => [modelId, model.name] as const,
          () => [modelId, modelId] as const,
        ),
      ),
    ),
  ]);
  return { sync, status, executions, target, models: new Map(models) };
}

export function ModelSyncDetailPage(props: { id: string }) {
  const { data, error, loading, reload } = useLoad(() => loadDetail(props.id), props.id, {
    ms: 1500,
    while: (d) => d.status.current_execution !== undefined,
  });
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  if (loading && !data) return <Loading />;
  if (!data) return <ErrorBox error={error} onRetry={reload} />;

  const { sync, status, executions, target, models } = data;
  const current = status.current_execution;
  const running = current !== undefined && activeStatuses.has(current.status ?? '');
  const start = async (resync: boolean) => {
    const run = await send<{ id?: string }>('POST', `/syncs/${sync.id}/executions`, { resync });
    if (run.id) navigate(`/model-syncs/${sync.id}/executions/${run.id}`);
    else await reload();
  };
  const cancel = async () => {
    await send('POST', `/syncs/${sync.id}/cancel`);
    await reload();
  };
  const setActive = async (active: boolean) => {
    await send('POST', `/syncs/${sync.id}/activate`, { active });
    await reload();
  };
  const remove = async () => {
    if (!window.confirm(`Delete the model sync "${sync.name}"?`)) return;
    await send('DELETE', `/syncs/${sync.id}`);
    navigate('/model-syncs');
  };
  const runs = executions.map((e) => modelRunSummary(sync.id, e));
  const mappings = [...(sync.fields ?? []), ...(sync.override_fields ?? [])];

  return (
    <>
      <PageHeader
        title={
          <>
            {sync.name} {sync.active === false && <span className="badge tone-muted">inactive</span>}
          </>
        }
        subtitle={`Model sync · ${sync.mode ?? ''}`}
        actions={
          <>
            <ActionButton label="Start" kind="primary" action={() => start(false)} onError={setActionError} />
            <ActionButton label="Resync" action={() => start(true)} onError={setActionError} />
            {running && (
              <ActionButton label="Cancel run" kind="danger" action={cancel} onError={setActionError} />
            )}
            <ActionButton
              label={sync.active === false ? 'Activate' : 'Deactivate'}
              action={() => setActive(sync.active === false)}
              onError={setActionError}
            />
            <ActionButton label="Delete" kind="danger" action={remove} onError={setActionError} />
          </>
        }
      />
      <ErrorBox error={actionError ?? error} />
      <div className="grid2">
        <section className="card">
          <h2>Configuration</h2>
          <Fields
            items={[
              [
                'Target',
                target ? (
                  <Link key="t" to={`/connections/${target.id}`}>
                    {target.name}
                  </Link>
                ) : (
                  (sync.target?.connection_id ?? '–')
                ),
              ],
              ['Object', sync.target?.object ?? sync.target?.new_name ?? '–'],
              ['Mode', sync.mode ?? '–'],
              ['Models', (sync.model_ids ?? []).map((id) => models.get(id) ?? id).join(', ') || '–'],
              [
                'Identity',
                sync.identity
                  ? `${sync.identity.source.field} ${sync.identity.function} ${sync.identity.target}`
                  : '–',
              ],
              ['Filters', String(sync.filters?.length ?? 0)],
            ]}
          />
        </section>
        <section className="card">
          <h2>Schedule</h2>
          <Fields
            items={[
              ['Schedule', scheduleText(sync.schedule)],
              ['Next run', status.next_execution_time ? when(status.next_execution_time) : '–'],
              ['Current run', current ? <StatusBadge key="c" status={current.status} /> : 'none'],
              [
                'Last run',
                status.last_execution ? (
                  <StatusBadge key="l" status={status.last_execution.status} />
                ) : (
                  'never'
                ),
              ],
            ]}
          />
        </section>
      </div>
      <h2>Field mappings</h2>
      {mappings.length === 0 ? (
        <Empty title="No field mappings">Map model fields to target fields through the API.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Source field</th>
              <th>Target field</th>
              <th>Sync mode</th>
            </tr>
          </thead>
          <tbody>
            {mappings.map((f) => (
              <tr key={f.target}>
                <td>{f.source?.field ?? (f.override_value !== undefined ? `“${f.override_value}”` : '–')}</td>
                <td>{f.target}</td>
                <td>{f.sync_mode ?? 'always'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Runs</h2>
      {runs.length === 0 ? (
        <Empty title="No runs yet">Press “Start” to run this sync now.</Empty>
      ) : (
        <>
          <RunChart runs={runs} />
          <RunTimeline runs={runs} />
        </>
      )}
    </>
  );
}
