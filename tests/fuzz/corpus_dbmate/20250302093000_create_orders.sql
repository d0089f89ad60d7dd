-- migrate:up
create table orders (
  id bigserial primary key,
  customer_id bigint not null references customers (id),
  total_cents integer not null check (total_cents >= 0),
  placed_at timestamptz not null default now()
);
create index orders_customer_id_idx on orders (customer_id);

-- migrate:down
drop table orders;
