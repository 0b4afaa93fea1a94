-- Foundation: tenants, users, API keys, connections and their schema cache.
CREATE TABLE settings (
  key text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE organizations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  sso_domain text,
  sso_org_id text,
  issuer text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX organizations_name_key ON organizations (lower(name));

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  email text NOT NULL,
  role text NOT NULL DEFAULT 'admin',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_organization_email_key ON users (organization_id, lower(email));

-- Keys are stored as the SHA-256 of the secret: they carry 256 random bits, so a slow hash adds nothing.
CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  is_admin boolean NOT NULL DEFAULT false,
  hash text NOT NULL UNIQUE,
  prefix text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_keys_organization_idx ON api_keys (organization_id);

CREATE TABLE connections (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL,
  type text NOT NULL,
  configuration jsonb NOT NULL DEFAULT '{}',
  -- Secret configuration values, encrypted as one JSON document (see src/store/secrets.ts).
  secrets text,
  status text NOT NULL DEFAULT 'healthy',
  status_error text,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connections_organization_idx ON connections (organization_id, created_at);

CREATE TABLE connection_schema_caches (
  connection_id uuid PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
  schemas jsonb NOT NULL DEFAULT '[]',
  status text NOT NULL,
  error text,
  job_id text,
  refresh_started_at timestamptz,
  refresh_finished_at timestamptz
);
