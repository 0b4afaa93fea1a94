import { type Connection, get, type ModelExecution, type ModelSync, type SyncStatus } from '../api.ts';
import { Empty, ErrorBox, Loading, PageHeader, StatusBadge, useLoad } from '../components.tsx';
import { scheduleText, when } from '../format.ts';
import { Link } from '../router.tsx';

interface Row {
  sync: ModelSync;
  status: SyncStatus<ModelExecution> | undefined;
}

async function loadModelSyncs(): Promise<{ rows: Row[]; connections: Map<string, string> }> {
  const [syncs, connections] = await Promise.all([
    get<ModelSync[]>('/syncs'),
    get<Connection[]>('/connections'),
  ]);
  const rows = await Promise.all(
    syncs.map(async (sync) => ({
      sync,
      status: await get<SyncStatus<ModelExecution>>(`/syncs/${sync.id}/status`).catch(() => undefined),
    })),
  );
  return { rows, connections: new Map(connections.map((c) => [c.id, c.name])) };
}

export function ModelSyncsPage() {
  const { data, error, loading, reload } = useLoad(loadModelSyncs, '');
  return (
    <>
      <PageHeader
        title="Model syncs"
        subtitle="The rows of a SQL model pushed into a target table or API (reverse ETL)."
      />
      <ErrorBox error={error} onRetry={reload} />
      {loading && !data && <Loading />}
      {data?.rows.length === 0 && (
        <Empty title="No model syncs yet">
          Create a model on a source connection, then a model sync to its target, with the API (
          <code>POST /api/models</code>, <code>POST /api/syncs</code>) or the MCP tools. They appear here.
        </Empty>
      )}
      {data && data.rows.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Target</th>
              <th>Mode</th>
              <th>Schedule</th>
              <th>Last run</th>
              <th>Next run</th>
            </tr>
          </thead>
          <tbody>
            {data.rows.map(({ sync, status }) => {
              const latest = status?.current_execution ?? status?.last_execution;
              return (
                <tr key={sync.id}>
                  <td>
                    <Link to={`/model-syncs/${sync.id}`}>{sync.name}</Link>
                    {sync.active === false && <span className="badge tone-muted">inactive</span>}
                  </td>
                  <td>
                    {data.connections.get(sync.target?.connection_id ?? '') ?? '?'}
                    {sync.target?.object && <span className="muted"> · {sync.target.object}</span>}
                  </td>
                  <td>{sync.mode ?? '–'}</td>
                  <td>{scheduleText(sync.schedule)}</td>
                  <td>
                    <StatusBadge status={latest?.status} />
                  </td>
                  <td>{status?.next_execution_time ? when(status.next_execution_time) : '–'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
