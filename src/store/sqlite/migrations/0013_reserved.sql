-- 13: reserved (no change to the schema).
SELECT 1;
