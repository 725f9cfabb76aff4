INSERT INTO bench_rows (event_id, payload) VALUES (md5(random()::text), 'x');
