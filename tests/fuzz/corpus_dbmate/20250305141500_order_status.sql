-- migrate:up
create type order_status as enum ('placed', 'paid', 'shipped', 'cancelled');
alter table orders add column status order_status not null default 'placed';

-- migrate:down
alter table orders drop column status;
drop type order_status;
