-- migrate:down
drop table x;
-- migrate:up
create table x ();
