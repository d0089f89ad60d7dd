-- migrate:up transaction:false
create index concurrently orders_shipped_at_idx on orders (shipped_at);

-- migrate:down transaction:false
drop index concurrently orders_shipped_at_idx;
