import { useState } from 'react';
import { type Connection, get, type SourceSchema, send } from '../api.ts';
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
import { when } from '../format.ts';
import { navigate } from '../router.tsx';

function SchemaRow(props: { schema: SourceSchema }) {
  const [open, setOpen] = useState(false);
  const { schema } = props;
  return (
    <>
      <tr>
        <td>
          <button type="button" className="link" onClick={() => setOpen(!open)} aria-expanded={open}>
            {open ? '▾' : '▸'} {schema.id}
          </button>
        </td>
        <td>{schema.fields.length}</td>
        <td>
          {schema.fields
            .filter((f) => f.is_primary_key)
            .map((f) => f.name)
            .join(', ') || '–'}
        </td>
      </tr>
      {open && (
        <tr className="nested">
          <td colSpan={3}>
            <table>
              <thead>
                <tr>
                  <th>Field</th>
                  <th>Type</th>
                  <th>Source type</th>
                  <th>Nullable</th>
                </tr>
              </thead>
              <tbody>
                {schema.fields.map((f) => (
                  <tr key={f.id}>
                    <td>
                      {f.name} {f.is_primary_key && <span className="badge tone-wait">key</span>}
                    </td>
                    <td>{f.type ?? '–'}</td>
                    <td>{f.remote_type ?? '–'}</td>
                    <td>{f.nullable === false ? 'no' : 'yes'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </td>
        </tr>
      )}
    </>
  );
}

export function ConnectionDetailPage(props: { id: string }) {
  const connection = useLoad(() => get<Connection>(`/connections/${props.id}`), props.id);
  const schemas = useLoad(() => get<SourceSchema[]>(`/connections/${props.id}/schemas`), props.id);
  const [error, setError] = useState<string | undefined>(undefined);
  const c = connection.data;

  const remove = async () => {
    if (!window.confirm(`Delete the connection "${c?.name}"?`)) return;
    await send('DELETE', `/connections/${props.id}`);
    navigate('/connections');
  };
  const refresh = async () => {
    await send('POST', `/connections/${props.id}/schemas/refresh`);
    await schemas.reload();
  };

  return (
    <>
      <PageHeader
        title={c?.name ?? 'Connection'}
        subtitle={c?.type.name}
        actions={
          c && (
            <>
              <ActionButton label="Refresh schemas" action={refresh} onError={setError} />
              <ActionButton label="Delete" kind="danger" action={remove} onError={setError} />
            </>
          )
        }
      />
      <ErrorBox error={connection.error ?? error} />
      {connection.loading && !c && <Loading />}
      {c && (
        <section className="card">
          <Fields
            items={[
              ['Status', <StatusBadge key="s" status={c.status} />],
              ...(c.status_error ? [['Last error', c.status_error] as [string, string]] : []),
              ['Created', when(c.created_at)],
              ...Object.entries(c.configuration).map(
                ([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)] as [string, string],
              ),
            ]}
          />
        </section>
      )}
      <h2>Schemas</h2>
      <ErrorBox
        error={schemas.error && `Schemas could not be read: ${schemas.error}`}
        onRetry={schemas.reload}
      />
      {schemas.loading && !schemas.data && <Loading />}
      {schemas.data?.length === 0 && (
        <Empty title="No tables found">
          This connection has no tables, views or files yet. Create some, then use “Refresh schemas”.
        </Empty>
      )}
      {schemas.data && schemas.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Schema</th>
              <th>Fields</th>
              <th>Primary key</th>
            </tr>
          </thead>
          <tbody>
            {schemas.data.map((s) => (
              <SchemaRow key={s.id} schema={s} />
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
