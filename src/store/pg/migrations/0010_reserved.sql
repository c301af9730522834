-- 10: held for the questionnaire links (written with them); empty here.
SELECT 1;
