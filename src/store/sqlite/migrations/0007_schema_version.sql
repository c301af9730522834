-- 7: the applied migrations, one row each (applied_at in microseconds since
-- the epoch); the versions applied before this table existed are recorded
-- with the time of this migration. PRAGMA user_version stays in step.
CREATE TABLE schema_version (
  version    INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
);
WITH RECURSIVE v(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM v WHERE n < 6)
INSERT INTO schema_version(version, applied_at)
  SELECT n, CAST(strftime('%s', 'now') AS INTEGER) * 1000000 FROM v;
