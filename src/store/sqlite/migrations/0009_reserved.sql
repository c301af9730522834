-- 9: reserved for the questionnaires migration, which takes this number.
SELECT 1;
