create table x ();
