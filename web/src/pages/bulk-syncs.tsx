import { type BulkStatusItem, type BulkSync, type Connection, get } from '../api.ts';
import { Empty, ErrorBox, Loading, PageHeader, StatusBadge, useLoad } from '../components.tsx';
import { scheduleText, when } from '../format.ts';
import { Link, navigate } from '../router.tsx';

interface Overview {
  syncs: BulkSync[];
  statuses: Map<string, BulkStatusItem>;
  connections: Map<string, string>;
}

async function loadOverview(): Promise<Overview> {
  const [syncs, statuses, connections] = await Promise.all([
    get<BulkSync[]>('/bulk/syncs'),
    get<BulkStatusItem[]>('/bulk/syncs/status?all=true'),
    get<Connection[]>('/connections'),
  ]);
  return {
    syncs,
    statuses: new Map(statuses.map((s) => [s.sync_id, s])),
    connections: new Map(connections.map((c) => [c.id, c.name])),
  };
}

export function BulkSyncsPage() {
  const { data, error, loading, reload } = useLoad(loadOverview, '', {
    ms: 5000,
    while: (d) => d.syncs.length > 0,
  });
  return (
    <>
      <PageHeader
        title="Bulk syncs"
        subtitle="Many tables from a source database into a destination, on a schedule or on demand."
        actions={
          <button type="button" className="primary" onClick={() => navigate('/bulk-syncs/new')}>
            New bulk sync
          </button>
        }
      />
      <ErrorBox error={error} onRetry={reload} />
      {loading && !data && <Loading />}
      {data?.syncs.length === 0 && (
        <Empty title="No bulk syncs yet">
          {data.connections.size < 2 ? (
            <>
              A bulk sync needs a source and a destination connection.{' '}
              <Link to="/connections/new">Create a connection</Link> first.
            </>
          ) : (
            <>
              <Link to="/bulk-syncs/new">Create a bulk sync</Link> to copy tables from one connection to
              another.
            </>
          )}
        </Empty>
      )}
      {data && data.syncs.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Source → destination</th>
              <th>Mode</th>
              <th>Schedule</th>
              <th>Last run</th>
              <th>Next run</th>
            </tr>
          </thead>
          <tbody>
            {data.syncs.map((s) => {
              const status = data.statuses.get(s.id);
              return (
                <tr key={s.id} data-sync={s.name}>
                  <td>
                    <Link to={`/bulk-syncs/${s.id}`}>{s.name}</Link>
                    {!s.active && <span className="badge tone-muted">inactive</span>}
                  </td>
                  <td>
                    {data.connections.get(s.source_connection_id) ?? '?'} →{' '}
                    {data.connections.get(s.destination_connection_id) ?? '?'}
                  </td>
                  <td>{s.mode}</td>
                  <td>{scheduleText(s.schedule)}</td>
                  <td>
                    <StatusBadge status={status?.status} />
                  </td>
                  <td>{status?.nextExecutionTime ? when(status.nextExecutionTime) : '–'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
