COPY t (a, b) FROM stdin;
1	x
2	y
\.