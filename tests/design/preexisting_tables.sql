-- The tables that predate the engagement design (domain-rules.md, section 1),
-- as the project's migration 0001 intends them. The schema comparison test
-- loads this file, then the SQL blocks of engagement-model.md, into a scratch
-- database and compares it with one built by the migrations.

CREATE TABLE organizations (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name VARCHAR(255) NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE users (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id UUID NOT NULL REFERENCES organizations(id),
  email VARCHAR(320) NOT NULL,
  name VARCHAR(255) NOT NULL,
  role SMALLINT NOT NULL,               -- 1=Client, 2=Staff, 3=Admin
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE (org_id, email)
);

CREATE TABLE services (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id UUID NOT NULL REFERENCES organizations(id),
  name VARCHAR(255) NOT NULL,
  description TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE proposals (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id UUID NOT NULL REFERENCES organizations(id),
  client_id UUID NOT NULL REFERENCES users(id),
  service_id UUID REFERENCES services(id),
  title VARCHAR(255) NOT NULL,
  amount_cents BIGINT NOT NULL,
  currency CHAR(3) NOT NULL,
  status SMALLINT NOT NULL DEFAULT 1,   -- 1=Draft, 2=Sent, 3=Signed, 4=Declined
  signed_at TIMESTAMPTZ,
  converted_order_id UUID,              -- references orders, added below
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE orders (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id UUID NOT NULL REFERENCES organizations(id),
  client_id UUID NOT NULL REFERENCES users(id),
  proposal_id UUID REFERENCES proposals(id),
  amount_cents BIGINT NOT NULL,
  currency CHAR(3) NOT NULL,
  status SMALLINT NOT NULL DEFAULT 1,   -- 1=Pending, 2=Paid, 3=Refunded, 4=Cancelled
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

ALTER TABLE proposals
  ADD CONSTRAINT proposals_converted_order_id_fkey
  FOREIGN KEY (converted_order_id) REFERENCES orders(id);
