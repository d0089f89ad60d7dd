-- migrate:up
alter table orders add column shipped_at timestamptz;
create index concurrently orders_shipped_at_idx on orders (shipped_at);

-- migrate:down
drop index orders_shipped_at_idx;
alter table orders drop column shipped_at;
