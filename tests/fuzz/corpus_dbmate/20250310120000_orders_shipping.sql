-- migrate:up
alter table orders add column shipped_at timestamptz;

-- migrate:down
alter table orders drop column shipped_at;
