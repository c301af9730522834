/* PostgreSQL statements: consent records, objections and unsubscribe links. */
#include "store/pg/pg.h"

#define W CU_STMT_WRITE

#define CONSENT_COLUMNS                                                                     \
    "id, subject_id, purpose, state, method, recorded_by, policy_version, at, evidence, mac"
#define CONSENT_SHAPE "ttttttiibb"
#define OBJECTION_COLUMNS                                                                   \
    "subject_id, purpose, recorded_by, lifted_by, made_at, coalesce(lifted_at, 0), seq, mac"
#define OBJECTION_SHAPE "ttttiiib"
#define UNSUB_COLUMNS                                                                       \
    "token_hash, subject_id, purpose, created_at, coalesce(used_at, 0), mac"
#define UNSUB_SHAPE "bttiib"

const cu_stmt_entry cu_pg_sql_consent[] = {
    {ST_CONSENT_INSERT, {"INSERT INTO consents(" CONSENT_COLUMNS ") "
                         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                         CONSENT_SHAPE, "", W}},
    {ST_CONSENT_LATEST, {"SELECT " CONSENT_COLUMNS " FROM consents WHERE subject_id = $1 "
                         "AND purpose = $2 ORDER BY seq DESC LIMIT 1",
                         "tt", CONSENT_SHAPE, 0}},
    {ST_CONSENT_EACH, {"SELECT " CONSENT_COLUMNS " FROM consents WHERE subject_id = $1 "
                       "ORDER BY seq",
                       "t", CONSENT_SHAPE, 0}},
    {ST_CONSENT_GET, {"SELECT " CONSENT_COLUMNS " FROM consents WHERE id = $1", "t",
                      CONSENT_SHAPE, 0}},
    {ST_CONSENT_COUNT, {"SELECT count(*) FROM consents WHERE subject_id = $1", "t", "i", 0}},
    {ST_CONSENT_ALL, {"SELECT " CONSENT_COLUMNS " FROM consents ORDER BY seq", "",
                      CONSENT_SHAPE, 0}},
    {ST_CONSENT_EVIDENCE, {"UPDATE consents SET evidence = $2, mac = $3 WHERE id = $1", "tbb",
                           "", W}},
    /* The new objection's number comes back as its one column. */
    {ST_OBJ_ADD, {"INSERT INTO objections(subject_id, purpose, made_at, recorded_by) "
                  "VALUES ($1, $2, $3, $4) RETURNING seq",
                  "ttit", "i", W}},
    {ST_OBJ_EACH, {"SELECT " OBJECTION_COLUMNS " FROM objections WHERE subject_id = $1 "
                   "ORDER BY seq",
                   "t", OBJECTION_SHAPE, 0}},
    {ST_OBJ_ALL, {"SELECT " OBJECTION_COLUMNS " FROM objections ORDER BY seq", "",
                  OBJECTION_SHAPE, 0}},
    {ST_OBJ_COUNT, {"UPDATE subjects SET objecting = (SELECT count(*) FROM objections "
                    "WHERE subject_id = $1 AND lifted_at IS NULL) WHERE id = $1",
                    "t", "", W}},
    {ST_OBJ_LIFT_ONE, {"UPDATE objections SET lifted_at = $2, lifted_by = $3, mac = $4 "
                       "WHERE seq = $1 AND lifted_at IS NULL",
                       "iitb", "", W}},
    {ST_UNSUB_INSERT, {"INSERT INTO unsubscribe_links(token_hash, subject_id, purpose, mac, "
                       "created_at) VALUES ($1, $2, $3, $5, $4)",
                       "bttib", "", W}},
    {ST_UNSUB_USE, {"UPDATE unsubscribe_links SET used_at = $2, mac = $3 WHERE token_hash = $1 "
                    "AND used_at IS NULL",
                    "bib", "", W}},
    {ST_UNSUB_PEEK, {"SELECT " UNSUB_COLUMNS " FROM unsubscribe_links WHERE token_hash = $1",
                     "b", UNSUB_SHAPE, 0}},
    {ST_UNSUB_ALL, {"SELECT " UNSUB_COLUMNS " FROM unsubscribe_links ORDER BY token_hash", "",
                    UNSUB_SHAPE, 0}},
    {ST_MAC_UNSUB, {"UPDATE unsubscribe_links SET mac = $3 WHERE token_hash = $1", "bib", "",
                    W}},
    {ST_MAC_CONSENTS, {"UPDATE consents SET mac = $3 WHERE id = $1", "tib", "", W}},
    {ST_MAC_OBJECTIONS, {"UPDATE objections SET mac = $3 WHERE seq = $2 AND $1 IS NOT NULL",
                         "tib", "", W}},
    {ST_COUNT, {0}},
};
