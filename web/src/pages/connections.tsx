import { type Connection, get } from '../api.ts';
import { Empty, ErrorBox, Loading, PageHeader, StatusBadge, useLoad } from '../components.tsx';
import { when } from '../format.ts';
import { Link, navigate } from '../router.tsx';

export function ConnectionsPage() {
  const { data, error, loading, reload } = useLoad(() => get<Connection[]>('/connections'), '');
  return (
    <>
      <PageHeader
        title="Connections"
        subtitle="Databases and files Ferry reads from and writes to."
        actions={
          <button type="button" className="primary" onClick={() => navigate('/connections/new')}>
            New connection
          </button>
        }
      />
      <ErrorBox error={error} onRetry={reload} />
      {loading && !data && <Loading />}
      {data?.length === 0 && (
        <Empty title="No connections yet">
          Add the database or file location you want to sync from, then the one to sync into.{' '}
          <Link to="/connections/new">Create a connection</Link>.
        </Empty>
      )}
      {data && data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Status</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {data.map((c) => (
              <tr key={c.id}>
                <td>
                  <Link to={`/connections/${c.id}`}>{c.name}</Link>
                </td>
                <td>{c.type.name}</td>
                <td>
                  <StatusBadge status={c.status} />
                  {c.status_error && <div className="small bad-text">{c.status_error}</div>}
                </td>
                <td>{when(c.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
