import { useState } from 'react';
import {
  api,
  type BulkExecution,
  type BulkSchema,
  type BulkSync,
  type Connection,
  get,
  type Schedule,
  type SyncStatus,
  send,
} from '../api.ts';
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
import { bulkRunSummary } from '../run-summaries.ts';
import { RunChart, RunTimeline } from '../runs-view.tsx';
import { ScheduleInput } from '../schedule-input.tsx';

/** Changes the schedule: PUT takes the whole sync, so every other setting is sent back as it is. */
function ScheduleEditor(props: { sync: BulkSync; onSaved: () => Promise<void>; onClose: () => void }) {
  const { sync } = props;
  const [schedule, setSchedule] = useState<Schedule>(sync.schedule ?? { frequency: 'manual' });
  const [error, setError] = useState<string | undefined>(undefined);
  const save = async () => {
    await send('PUT', `/bulk/syncs/${sync.id}`, {
      name: sync.name,
      source_connection_id: sync.source_connection_id,
      destination_connection_id: sync.destination_connection_id,
      mode: sync.mode,
      active: sync.active,
      discover: sync.discover,
      normalize_names: sync.normalize_names,
      concurrency_limit: sync.concurrency_limit,
      source_configuration: sync.source_configuration,
      destination_configuration: sync.destination_configuration ?? {},
      schedule,
    });
    await props.onSaved();
    props.onClose();
  };
  return (
    <div className="form">
      <ScheduleInput value={schedule} onChange={setSchedule} />
      <ErrorBox error={error} />
      <div className="actions">
        <ActionButton label="Save schedule" kind="primary" action={save} onError={setError} />
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
      </div>
    </div>
  );
}

interface Detail {
  sync: BulkSync;
  status: SyncStatus<BulkExecution>;
  schemas: BulkSchema[];
  executions: BulkExecution[];
  connections: Map<string, Connection>;
}

async function loadDetail(id: string): Promise<Detail> {
  const [sync, status, schemas, executions, connections] = await Promise.all([
    get<BulkSync>(`/bulk/syncs/${id}`),
    get<SyncStatus<BulkExecution>>(`/bulk/syncs/${id}/status`),
    get<BulkSchema[]>(`/bulk/syncs/${id}/schemas`),
    api<{ data: BulkExecution[] }>('GET', `/bulk/syncs/${id}/executions?limit=50`).then((r) => r.data),
    get<Connection[]>('/connections'),
  ]);
  return { sync, status, schemas, executions, connections: new Map(connections.map((c) => [c.id, c])) };
}

export function BulkSyncDetailPage(props: { id: string }) {
  const { data, error, loading, reload } = useLoad(() => loadDetail(props.id), props.id, {
    ms: 1500,
    while: (d) => d.status.current_execution !== undefined,
  });
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  const [editingSchedule, setEditingSchedule] = useState(false);
  if (loading && !data) return <Loading />;
  if (!data) return <ErrorBox error={error} onRetry={reload} />;

  const { sync, status, schemas, executions, connections } = data;
  const current = status.current_execution;
  const running = current !== undefined && activeStatuses.has(current.status);
  const connectionLink = (id: string) => {
    const c = connections.get(id);
    return c ? <Link to={`/connections/${id}`}>{`${c.name} (${c.type.name})`}</Link> : id;
  };

  const start = async (resync: boolean) => {
    setActionError(undefined);
    const run = await send<BulkExecution>('POST', `/bulk/syncs/${sync.id}/executions`, { resync });
    navigate(`/bulk-syncs/${sync.id}/executions/${run.id}`);
  };
  const cancel = async () => {
    await send('POST', `/bulk/syncs/${sync.id}/cancel`);
    await reload();
  };
  const setActive = async (active: boolean) => {
    await send('POST', `/bulk/syncs/${sync.id}/activate`, { active });
    await reload();
  };
  const remove = async () => {
    if (!window.confirm(`Delete the bulk sync "${sync.name}"? Its run history goes with it.`)) return;
    await send('DELETE', `/bulk/syncs/${sync.id}`);
    navigate('/bulk-syncs');
  };

  return (
    <>
      <PageHeader
        title={
          <>
            {sync.name} {!sync.active && <span className="badge tone-muted">inactive</span>}
          </>
        }
        subtitle={`Bulk sync · ${sync.mode}`}
        actions={
          <>
            <ActionButton label="Start" kind="primary" action={() => start(false)} onError={setActionError} />
            <ActionButton label="Resync" action={() => start(true)} onError={setActionError} />
            {running && (
              <ActionButton label="Cancel run" kind="danger" action={cancel} onError={setActionError} />
            )}
            <ActionButton
              label={sync.active ? 'Deactivate' : 'Activate'}
              action={() => setActive(!sync.active)}
              onError={setActionError}
            />
            <ActionButton label="Delete" kind="danger" action={remove} onError={setActionError} />
          </>
        }
      />
      <ErrorBox error={actionError ?? error} />
      {current && (
        <div className={`notice tone-${running ? 'busy' : 'muted'}`}>
          A run is in progress: <StatusBadge status={current.status} />{' '}
          <Link to={`/bulk-syncs/${sync.id}/executions/${current.id}`}>follow it live</Link>
        </div>
      )}
      <div className="grid2">
        <section className="card">
          <h2>Configuration</h2>
          <Fields
            items={[
              ['Source', connectionLink(sync.source_connection_id)],
              ['Destination', connectionLink(sync.destination_connection_id)],
              ['Mode', sync.mode],
              ['Destination schema', String(sync.destination_configuration?.schema ?? 'default')],
              ['Name normalization', sync.normalize_names ?? '–'],
              ['Concurrency', String(sync.concurrency_limit ?? '–')],
              ['New tables', sync.discover ? 'added automatically' : 'not added'],
              ['Created', when(sync.created_at)],
            ]}
          />
        </section>
        <section className="card">
          <div className="section-title">
            <h2>Schedule</h2>
            {!editingSchedule && (
              <button type="button" className="link" onClick={() => setEditingSchedule(true)}>
                Change
              </button>
            )}
          </div>
          {editingSchedule && (
            <ScheduleEditor sync={sync} onSaved={reload} onClose={() => setEditingSchedule(false)} />
          )}
          <Fields
            items={[
              ['Schedule', scheduleText(sync.schedule)],
              ['Active', sync.active ? 'yes' : 'no (scheduled runs are paused)'],
              ['Next run', status.next_execution_time ? when(status.next_execution_time) : '–'],
              [
                'Last run',
                status.last_execution ? (
                  <>
                    <StatusBadge status={status.last_execution.status} />{' '}
                    {when(status.last_execution.started_at)}
                  </>
                ) : (
                  'never'
                ),
              ],
            ]}
          />
        </section>
      </div>

      <h2>Tables</h2>
      {schemas.length === 0 ? (
        <Empty title="No tables selected">Edit the sync through the API to select source tables.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Table</th>
              <th>Enabled</th>
              <th>Output name</th>
              <th>Tracking field</th>
              <th>Fields</th>
            </tr>
          </thead>
          <tbody>
            {schemas.map((s) => (
              <tr key={s.id}>
                <td>{s.id}</td>
                <td>{s.enabled ? 'yes' : 'no'}</td>
                <td>{s.user_output_name ?? s.output_name ?? '–'}</td>
                <td>{s.tracking_field ?? '–'}</td>
                <td title={s.fields.map((f) => f.id).join(', ')}>
                  {s.fields.length === 0
                    ? 'all'
                    : `${s.fields.filter((f) => f.enabled !== false).length} of ${s.fields.length}`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Runs</h2>
      {executions.length === 0 ? (
        <Empty title="No runs yet">Press “Start” to run this sync now.</Empty>
      ) : (
        <>
          <RunChart runs={executions.map((e) => bulkRunSummary(sync.id, e))} />
          <RunTimeline runs={executions.map((e) => bulkRunSummary(sync.id, e))} />
        </>
      )}
    </>
  );
}
