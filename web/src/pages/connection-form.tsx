import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { type Connection, type ConnectionType, get, type JsonSchema, messageOf, send } from '../api.ts';
import { ErrorBox, Loading, PageHeader, useLoad } from '../components.tsx';
import { navigate } from '../router.tsx';

type Values = Record<string, string | boolean>;

const acronyms: Record<string, string> = { ssl: 'SSL', url: 'URL', dsn: 'DSN' };
const labelOf = (name: string) =>
  acronyms[name] ?? name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
const isSecret = (name: string) => /password|secret|token|key/i.test(name);

/** Form values as the configuration the type's JSON Schema asks for; blank optional fields are left out. */
function configurationOf(schema: JsonSchema, values: Values): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const value = values[name];
    if (value === undefined || value === '') continue;
    if (field.type === 'integer' || field.type === 'number') out[name] = Number(value);
    else out[name] = value;
  }
  return out;
}

function defaultsOf(schema: JsonSchema): Values {
  const values: Values = {};
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    if (field.type === 'boolean') values[name] = field.default === true;
    else values[name] = field.default === undefined ? '' : String(field.default);
  }
  return values;
}

function ConfigField(props: {
  name: string;
  field: JsonSchema;
  required: boolean;
  value: string | boolean | undefined;
  onChange: (value: string | boolean) => void;
}) {
  const { name, field } = props;
  if (field.type === 'boolean') {
    return (
      <label className="check">
        <input
          type="checkbox"
          name={name}
          checked={props.value === true}
          onChange={(e) => props.onChange(e.target.checked)}
        />
        {labelOf(name)}
      </label>
    );
  }
  const numeric = field.type === 'integer' || field.type === 'number';
  const id = `config-${name}`;
  return (
    <div className="field">
      <label htmlFor={id}>
        {labelOf(name)}
        {!props.required && <span className="muted small"> (optional)</span>}
      </label>
      {field.enum ? (
        <select
          id={id}
          name={name}
          value={String(props.value ?? '')}
          onChange={(e) => props.onChange(e.target.value)}
        >
          <option value="">–</option>
          {field.enum.map((v) => (
            <option key={String(v)}>{String(v)}</option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          name={name}
          type={numeric ? 'number' : isSecret(name) ? 'password' : 'text'}
          autoComplete="off"
          min={field.minimum}
          max={field.maximum}
          required={props.required}
          value={String(props.value ?? '')}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
      {field.description && <span className="muted small">{field.description}</span>}
    </div>
  );
}

export function ConnectionFormPage() {
  const types = useLoad(() => get<ConnectionType[]>('/connection_types'), '');
  const [typeId, setTypeId] = useState('');
  const [name, setName] = useState('');
  const [values, setValues] = useState<Values>({});
  const [tested, setTested] = useState<'ok' | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState<'test' | 'save' | undefined>(undefined);

  const type = useMemo(() => types.data?.find((t) => t.id === typeId), [types.data, typeId]);
  useEffect(() => {
    if (!typeId && types.data?.[0]) setTypeId(types.data[0].id);
  }, [types.data, typeId]);
  useEffect(() => {
    if (type) setValues(defaultsOf(type.configurationSchema));
    setTested(undefined);
  }, [type]);

  const schema = type?.configurationSchema ?? {};
  const required = new Set(schema.required ?? []);
  const setValue = (field: string, value: string | boolean) => {
    setValues((v) => ({ ...v, [field]: value }));
    setTested(undefined);
  };

  const test = async () => {
    setBusy('test');
    setError(undefined);
    try {
      await send('POST', '/connections/test', {
        type: typeId,
        configuration: configurationOf(schema, values),
      });
      setTested('ok');
    } catch (e) {
      setError(`The connection test failed: ${messageOf(e)}`);
    } finally {
      setBusy(undefined);
    }
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setBusy('save');
    setError(undefined);
    try {
      const created = await send<Connection>('POST', '/connections', {
        name: name.trim(),
        type: typeId,
        configuration: configurationOf(schema, values),
      });
      navigate(`/connections/${created.id}`);
    } catch (e) {
      setError(messageOf(e));
      setBusy(undefined);
    }
  };

  return (
    <>
      <PageHeader
        title="New connection"
        subtitle="Test the connection, then save it. Secrets are encrypted at rest and never shown again."
      />
      <ErrorBox error={types.error} onRetry={types.reload} />
      {types.loading && <Loading />}
      {types.data && (
        <form className="card form" onSubmit={(e) => void save(e)}>
          <label>
            Type
            <select name="type" value={typeId} onChange={(e) => setTypeId(e.target.value)}>
              {types.data.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Name
            <input
              name="name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              required
              maxLength={200}
            />
          </label>
          <fieldset>
            <legend>{type?.name ?? ''} configuration</legend>
            {Object.entries(schema.properties ?? {}).map(([field, spec]) => (
              <ConfigField
                key={`${typeId}.${field}`}
                name={field}
                field={spec}
                required={required.has(field)}
                value={values[field]}
                onChange={(v) => setValue(field, v)}
              />
            ))}
          </fieldset>
          <ErrorBox error={error} />
          {tested === 'ok' && (
            <div className="notice ok" role="status">
              Connection test succeeded.
            </div>
          )}
          <div className="actions">
            <button type="button" onClick={() => void test()} disabled={busy !== undefined}>
              {busy === 'test' ? 'Testing…' : 'Test connection'}
            </button>
            <button
              type="submit"
              className="primary"
              disabled={busy !== undefined || tested !== 'ok' || name.trim() === ''}
              title={tested === 'ok' ? undefined : 'Test the connection first'}
            >
              {busy === 'save' ? 'Saving…' : 'Save connection'}
            </button>
          </div>
        </form>
      )}
    </>
  );
}
