/* PostgreSQL statements: subjects, their keys and pseudonyms. */
#include "store/pg/pg.h"

#define W CU_STMT_WRITE

#define SUBJECT_COLUMNS                                                                     \
    "id, controller_id, kind, key_version, created_at, updated_at, erased_at, pseudonym, "  \
    "coalesce(restricted_at, 0), objecting, item_count, item_digest, mac, consents"
#define SUBJECT_SHAPE "tttiiiitiiibbi"

const cu_stmt_entry cu_pg_sql_subjects[] = {
    {ST_SUBJ_INSERT, {"INSERT INTO subjects(id, controller_id, kind, key_version, created_at, "
                      "updated_at, erased_at, pseudonym, restricted_at, objecting, item_count, "
                      "item_digest, mac, consents) VALUES ($1, $2, $3, $4, $5, $6, "
                      "nullif($7, 0), nullif($8, ''), nullif($9, 0), $10, $11, $12, $13, $14)",
                      SUBJECT_SHAPE, "", W}},
    {ST_SUBJ_UPDATE, {"UPDATE subjects SET key_version = $4, updated_at = $6, "
                      "erased_at = nullif($7, 0), pseudonym = nullif($8, ''), "
                      "restricted_at = nullif($9, 0), objecting = $10, item_count = $11, "
                      "item_digest = $12, mac = $13, consents = $14 WHERE id = $1",
                      SUBJECT_SHAPE, "", W}},
    {ST_SUBJ_GET, {"SELECT " SUBJECT_COLUMNS " FROM subjects WHERE id = $1", "t",
                   SUBJECT_SHAPE, 0}},
    {ST_SUBJ_TOUCH, {"UPDATE subjects SET updated_at = $2 WHERE id = $1", "ti", "", W}},
    {ST_SUBJ_ERASED, {"UPDATE subjects SET erased_at = $2, updated_at = $2 WHERE id = $1", "ti",
                      "", W}},
    {ST_SUBJ_EACH, {"SELECT " SUBJECT_COLUMNS " FROM subjects ORDER BY created_at, id", "",
                    SUBJECT_SHAPE, 0}},
    {ST_SUBJ_EACH_CTL, {"SELECT " SUBJECT_COLUMNS " FROM subjects WHERE controller_id = $1 "
                        "ORDER BY created_at, id",
                        "t", SUBJECT_SHAPE, 0}},
    {ST_SKEY_PUT, {"INSERT INTO subject_keys(subject_id, version, wrapped) VALUES ($1, $2, $3) "
                   "ON CONFLICT(subject_id) DO UPDATE SET version = excluded.version, "
                   "wrapped = excluded.wrapped",
                   "tib", "", W}},
    {ST_SKEY_GET, {"SELECT version, wrapped FROM subject_keys WHERE subject_id = $1", "t", "ib",
                   0}},
    {ST_SKEY_DELETE, {"DELETE FROM subject_keys WHERE subject_id = $1", "t", "", W}},
    {ST_SKEY_EACH, {"SELECT subject_id, version, wrapped FROM subject_keys", "", "tib", 0}},
    {ST_SUBJ_PSN_SET, {"UPDATE subjects SET pseudonym = $2 WHERE id = $1", "tt", "", W}},
    {ST_SUBJ_BY_PSN, {"SELECT id FROM subjects WHERE pseudonym = $1", "t", "t", 0}},
    {ST_SUBJ_NO_PSN, {"SELECT id, controller_id FROM subjects WHERE pseudonym IS NULL", "",
                      "tt", 0}},
    {ST_SUBJ_KEYVER, {"UPDATE subjects SET key_version = $2 WHERE id = $1", "ti", "", W}},
    {ST_SUBJ_RESTRICT, {"UPDATE subjects SET restricted_at = nullif($2, 0) WHERE id = $1", "ti",
                        "", W}},
    {ST_COUNT, {0}},
};
