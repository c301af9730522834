/*
 * wording.c — the words shared by the generated documents (wording.h).
 */
#include "iface/wording.h"

#include <stdio.h>
#include <string.h>

#include "domain/model.h"
#include "domain/nhs.h"
#include "util/clock.h"

/* UK GDPR Article 6(1), a to f. */
static const struct {
    const char *name, *explained;
} bases[6] = {
    {"consent", "you have given us your consent to use your personal data for this purpose."},
    {"contract", "we need to use your personal data for a contract we have with you, or "
                 "because you asked us to take steps before entering into one."},
    {"legal obligation", "we need to use your personal data to comply with the law."},
    {"vital interests", "we need to use your personal data to protect someone's life."},
    {"public task", "we need to use your personal data to perform a task in the public "
                    "interest or for our official functions, which have a clear basis in "
                    "law."},
    {"legitimate interests", "we need to use your personal data for our legitimate interests "
                             "(or those of others), and your interests and rights do not "
                             "override them."},
};

/* UK GDPR Article 9(2), a to j. */
static const struct {
    const char *plain, *formal;
} conditions[10] = {
    {"explicit consent", "explicit consent"},
    {"employment, social security and social protection law",
     "employment, social security and social protection"},
    {"vital interests", "vital interests"},
    {"the activities of a not-for-profit body", "not-for-profit bodies"},
    {"information you have made public", "made public by the data subject"},
    {"legal claims and the courts", "legal claims or judicial acts"},
    {"substantial public interest", "substantial public interest"},
    {"health or social care", "health or social care"},
    {"public health", "public health"},
    {"archiving, research and statistics", "archiving, research or statistics"},
};

#define IN(c, first, last) ((c) >= (first) && (c) <= (last))

const char *cu_wording_basis(char basis)
{
    return IN(basis, 'a', 'f') ? bases[basis - 'a'].name : "unknown";
}

const char *cu_wording_basis_explained(char basis)
{
    return IN(basis, 'a', 'f') ? bases[basis - 'a'].explained : "";
}

const char *cu_wording_special(char condition)
{
    return IN(condition, 'a', 'j') ? conditions[condition - 'a'].plain : "unknown";
}

const char *cu_wording_special_formal(char condition)
{
    return IN(condition, 'a', 'j') ? conditions[condition - 'a'].formal : "unknown";
}

const char *cu_wording_basis_ref(char basis, char ref[CU_WORDING_REF_LEN])
{
    snprintf(ref, CU_WORDING_REF_LEN, "UK GDPR Article 6(1)(%c)", basis);
    return ref;
}

const char *cu_wording_special_ref(char condition, char ref[CU_WORDING_REF_LEN])
{
    snprintf(ref, CU_WORDING_REF_LEN, "UK GDPR Article 9(2)(%c)", condition);
    return ref;
}

const char *cu_wording_ordinal_suffix(int n)
{
    int m100 = n % 100, m10 = n % 10;
    if (m100 >= 11 && m100 <= 13)
        return "th";
    return m10 == 1 ? "st" : m10 == 2 ? "nd" : m10 == 3 ? "rd" : "th";
}

size_t cu_wording_period(const cu_pol_retention *r, cu_wording_style style, char *out,
                         size_t outsz)
{
    const struct {
        int n;
        const char *one, *many;
    } parts[3] = {{r->years, "year", "years"},
                  {r->months, "month", "months"},
                  {r->days, "day", "days"}};
    int count = 0, total = 0;
    for (int i = 0; i < 3; i++)
        total += parts[i].n > 0;
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < 3; i++) {
        if (parts[i].n <= 0)
            continue;
        const char *sep = count == 0               ? ""
                        : style == CU_WORDING_COMPACT ? " "
                        : count == total - 1       ? " and "
                                                   : ", ";
        int k = snprintf(out + used, outsz - used, "%s%d %s", sep, parts[i].n,
                         parts[i].n == 1 ? parts[i].one : parts[i].many);
        if (k < 0 || (size_t)k >= outsz - used)
            break;
        used += (size_t)k;
        count++;
    }
    return used;
}

bool cu_wording_category_special(cu_category c)
{
    return c == CU_CAT_HEALTH || c == CU_CAT_GENETIC || c == CU_CAT_SPECIAL;
}

unsigned cu_wording_declared_kinds(const cu_policy *p)
{
    unsigned k = 0;
    for (size_t i = 0; i < p->npurposes; i++)
        k |= p->purposes[i].kinds;
    return k;
}

unsigned cu_wording_purpose_categories(const cu_policy *p, const cu_pol_purpose *u)
{
    return u->builtin ? p->collected : u->categories;
}

unsigned cu_wording_purpose_kinds(const cu_policy *p, const cu_pol_purpose *u)
{
    return u->builtin ? cu_wording_declared_kinds(p) : u->kinds;
}

/* ---------------------------------------------- the words a subject reads */

typedef cu_wording_pair pair;

const char *cu_wording_lookup(const cu_wording_pair *t, size_t n, const char *id)
{
    for (size_t i = 0; id && i < n; i++)
        if (strcmp(t[i].id, id) == 0)
            return t[i].words;
    return NULL;
}
#define LOOKUP(t, id) CU_WORDING_LOOKUP(t, id)

const char *cu_wording_category(int c)
{
    static const char *const words[CU_CAT_COUNT] = {
        [CU_CAT_CONTACT] = "contact details",
        [CU_CAT_IDENTIFYING] = "identifying details",
        [CU_CAT_HEALTH] = "health information",
        [CU_CAT_GENETIC] = "genetic information",
        [CU_CAT_SPECIAL] = "other sensitive information (such as ethnicity or religion)",
        [CU_CAT_FAMILY] = "family and personal circumstances",
        [CU_CAT_WORK_EDU_FIN] = "work, education and financial information",
        [CU_CAT_ONLINE_ID] = "online identifiers (such as your device's internet address)",
    };
    return c >= 0 && c < CU_CAT_COUNT ? words[c] : NULL;
}

/* Appends s to out (at *used), truncating at outsz. */
static void put(char *out, size_t outsz, size_t *used, const char *s)
{
    size_t n = strlen(s);
    if (*used >= outsz)
        return;
    if (n > outsz - 1 - *used)
        n = outsz - 1 - *used;
    memcpy(out + *used, s, n);
    *used += n;
    out[*used] = '\0';
}

size_t cu_wording_categories(unsigned mask, char *out, size_t outsz)
{
    size_t used = 0, total = 0, k = 0;
    out[0] = '\0';
    for (int c = 0; c < CU_CAT_COUNT; c++)
        total += (mask >> c) & 1u;
    for (int c = 0; c < CU_CAT_COUNT; c++) {
        if (!(mask & (1u << c)))
            continue;
        if (k)
            put(out, outsz, &used, k == total - 1 ? " and " : ", ");
        put(out, outsz, &used, cu_wording_category(c));
        k++;
    }
    return used;
}

unsigned cu_wording_category_mask(const char *csv)
{
    unsigned mask = 0;
    char name[64];
    while (csv && *csv) {
        size_t n = strcspn(csv, ",");
        if (n < sizeof name) {
            memcpy(name, csv, n);
            name[n] = '\0';
            int c = cu_category_from_name(name);
            if (c >= 0)
                mask |= 1u << c;
        }
        csv += n;
        if (*csv == ',')
            csv++;
    }
    return mask;
}

const char *cu_wording_source(const char *source)
{
    static const pair m[] = {
        {"subject", "you"},
        {"staff", "our staff"},
        {"nhs_organisation", "an NHS organisation"},
        {"local_authority", "a local authority"},
        {"other_organisation", "another organisation"},
        {"national_source", "a national source (such as the NHS Spine)"},
    };
    return LOOKUP(m, source);
}

size_t cu_wording_field(const char *field, char *out, size_t outsz)
{
    static const pair known[] = {
        {"name", "Name"},
        {"birth_date", "Date of birth"},
        {"address", "Address"},
        {"postcode", "Postcode"},
        {"nhs_number", "NHS number"},
        {"email", "Email address"},
        {"phone", "Phone number"},
        {"local_ref", "Our reference number for you"},
        {"questionnaire_response", "Your answers to a questionnaire"},
    };
    /* Words kept in capitals inside other field names. */
    static const char *const upper[] = {"nhs", "gp", "ip", "id", "uk", "url", "bmi", "dna", "phq9", "gad7"};
    size_t used = 0;
    out[0] = '\0';
    const char *w = LOOKUP(known, field);
    if (w) {
        put(out, outsz, &used, w);
        return used;
    }
    for (const char *p = field ? field : ""; *p;) {
        size_t n = strcspn(p, "_.-");
        char word[72];
        if (n >= sizeof word)
            n = sizeof word - 1;
        memcpy(word, p, n);
        word[n] = '\0';
        bool caps = false;
        for (size_t i = 0; i < sizeof upper / sizeof upper[0]; i++)
            caps |= strcmp(word, upper[i]) == 0;
        for (size_t i = 0; i < n; i++)
            if (caps || (used == 0 && i == 0))
                word[i] = (char)(word[i] >= 'a' && word[i] <= 'z' ? word[i] - 32 : word[i]);
        if (n) {
            if (used)
                put(out, outsz, &used, " ");
            put(out, outsz, &used, word);
        }
        p += n;
        while (*p && strchr("_.-", *p))
            p++;
    }
    return used;
}

const char *cu_wording_action(const char *action)
{
    static const pair m[] = {
        {"audit", "check the record of who accessed your data"},
        {"authenticate", "sign in"},
        {"backup", "back up our records"},
        {"break_glass", "get emergency access to your record"},
        {"care_list.add", "add you to a care team's list"},
        {"care_list.remove", "remove you from a care team's list"},
        {"consent.give", "record your consent"},
        {"consent.link", "make a link for you to withdraw your consent"},
        {"consent.read", "look at your consent records"},
        {"consent.withdraw", "record that you withdrew your consent"},
        {"create", "create your record"},
        {"disclose", "record that your data was shared"},
        {"erase", "erase your data"},
        {"erase.plan", "work out which of your data can be erased"},
        {"export", "prepare a copy of your data"},
        {"key", "change the keys that protect your data"},
        {"object", "record your objection to a use of your data"},
        {"object.lift", "record that your objection ended"},
        {"pathway.add", "add a follow-up pathway we may use"},
        {"pathway.discharge", "end your follow-up on a care pathway"},
        {"pathway.due", "check which follow-ups and tasks are due"},
        {"pathway.enrol", "put you on a follow-up care pathway"},
        {"pathway.list", "look at the list of our follow-up pathways"},
        {"pathway.read", "look at one of our follow-up pathways"},
        {"policy.apply", "update our privacy policy"},
        {"portal.access", "look at who has accessed your record, on our patient portal"},
        {"portal.account", "set the password of your account on our patient portal"},
        {"portal.cookies", "record your choice about cookies on our patient portal"},
        {"portal.data", "look at your data on our patient portal"},
        {"portal.download", "download a copy of your data from our patient portal"},
        {"portal.invite", "invite you to our patient portal"},
        {"portal.questionnaires",
         "look at the questionnaires you were sent, on our patient portal"},
        {"portal.requests", "look at your requests on our patient portal"},
        {"portal.signin", "sign in to our patient portal"},
        {"portal.signout", "sign out of our patient portal"},
        {"questionnaire.add", "add a questionnaire we may send"},
        {"questionnaire.enter", "record your answers to a questionnaire for you"},
        {"questionnaire.list", "look at the list of our questionnaires"},
        {"questionnaire.read", "look at one of our questionnaires"},
        {"questionnaire.responses", "look at your answers to questionnaires"},
        {"questionnaire.send", "send you a questionnaire to answer"},
        {"questionnaire.submit", "record the answers you sent to a questionnaire"},
        {"read", "look at your record"},
        {"request.ask_identity", "ask you for proof of your identity"},
        {"request.clarify", "ask you to clarify your request"},
        {"request.due", "check which requests are due"},
        {"request.extend", "extend the time to answer your request"},
        {"request.fulfil", "complete your request"},
        {"request.list", "look at the list of requests"},
        {"request.read", "look at your request"},
        {"request.receive", "record your request"},
        {"request.refuse", "refuse your request"},
        {"request.resume", "resume work on your request"},
        {"request.verify", "confirm your identity for your request"},
        {"request.withdraw", "record that you withdrew your request"},
        {"restrict", "restrict the use of your data"},
        {"restrict.lift", "end the restriction on your data"},
        {"rights.read", "look at your restrictions and objections"},
        {"search", "search for your record"},
        {"session.purge", "delete expired staff sign-in sessions"},
        {"signin", "sign in"},
        {"signout", "sign out"},
        {"signout.everywhere", "sign out on every device"},
        {"task.ack", "acknowledge a clinical task about you"},
        {"task.done", "close a clinical task about you"},
        {"task.list", "look at the list of clinical tasks"},
        {"task.raise", "raise a clinical task about you for your care team"},
        {"token.create", "create an access key"},
        {"token.list", "look at the list of access keys"},
        {"token.revoke", "cancel an access key"},
        {"update", "correct or add to your record"},
        {"user.add", "add a staff account"},
        {"user.disable", "disable a staff account"},
        {"user.list", "look at the list of staff accounts"},
        {"user.reset_password", "reset a staff password"},
        {"user.signout", "sign a member of staff out on every device"},
    };
    return LOOKUP(m, action);
}

size_t cu_wording_role(const char *roles, char *out, size_t outsz)
{
    static const struct {
        const char *id, *article, *noun;
    } m[] = {
        {"operator", "our", "system operator"},
        {"clinician", "a", "clinician"},
        {"care_admin", "a", "care administrator"},
        {"dpo", "our", "Data Protection Officer"},
        {"analyst", "an", "analyst"},
        {"auditor", "an", "auditor"},
        {"admin", "a", "system administrator"},
        {"subject", "", "you, on our patient portal"},
    };
    size_t used = 0, k = 0;
    out[0] = '\0';
    for (const char *p = roles ? roles : ""; *p;) {
        size_t n = strcspn(p, ",");
        size_t i = 0;
        for (; i < sizeof m / sizeof m[0]; i++)
            if (strlen(m[i].id) == n && strncmp(m[i].id, p, n) == 0)
                break;
        if (i == sizeof m / sizeof m[0]) {
            out[0] = '\0';
            return 0;
        }
        if (k == 0) {
            if (m[i].article[0]) {
                put(out, outsz, &used, m[i].article);
                put(out, outsz, &used, " ");
            }
        } else {
            put(out, outsz, &used, k == 1 ? " who is also " : " and ");
            put(out, outsz, &used, strcmp(m[i].article, "our") == 0 ? "our " : "a ");
        }
        put(out, outsz, &used, m[i].noun);
        k++;
        p += n;
        if (*p == ',')
            p++;
    }
    return used;
}

const char *cu_wording_outcome(const char *outcome)
{
    static const pair m[] = {
        {"ok", "allowed"},
        {"denied", "refused"},
        {"not_found", "nothing was found"},
        {"erased", "your record had been erased"},
    };
    return LOOKUP(m, outcome);
}

const char *cu_wording_rule(const char *rule)
{
    static const pair m[] = {
        {"refused", "our access rules do not allow it"},
        {"role-not-permitted", "their role does not allow it"},
        {"not-on-care-list", "they are not on your care team's list"},
        {"break-glass-not-permitted", "emergency access does not allow it"},
        {"no-role", "they have no role that allows it"},
        {"no-controller", "their account does not belong to our organisation"},
        {"other-controller", "they work for another organisation"},
        {"no-policy", "we had no privacy policy that allows it"},
        {"purpose-not-in-policy", "the reason they gave is not one our privacy policy allows"},
        {"subject-kind-not-covered", "the reason they gave does not apply to you"},
        {"category-not-covered", "the reason they gave does not cover that kind of data"},
        {"restricted", "you had asked us to restrict the use of your data"},
        {"objection", "you had objected to this use of your data"},
        {"no-consent", "there was no consent from you for this purpose"},
        {"pseudonym-required",
         "their role may only see records that do not show who you are"},
        {"rights-purpose-not-permitted",
         "only our Data Protection Officer may act on your requests about your data"},
        {"category-not-permitted", "their role does not allow them that kind of data"},
        {"not-own-record", "a patient may see only their own record"},
        {"wrong-password", "the password was wrong"},
        {"account-locked", "the account was locked after too many failed sign-ins"},
        {"withholding-needs-clinician",
         "only a clinician caring for you may hold back information from a copy of your data"},
        {"retention-period", "we must keep the data for a set period"},
        {"health-approval-required",
         "erasing health information needs our Data Protection Officer's approval"},
        {"plan-changed", "your data had changed since the erasure was approved"},
        {"not-task-owner", "the task was for another clinician"},
    };
    return LOOKUP(m, rule);
}

const char *cu_wording_builtin_purpose(const char *purpose)
{
    static const pair m[] = {
        {CU_PURPOSE_RIGHTS, "answering your requests about your data"},
        {"direct_care", "your care"},
        {"administration", "running our systems"},
        {"audit", "checking who has accessed records"},
        {"reporting", "reporting and statistics"},
        {"consent_withdrawal", "withdrawing your consent"},
        {"authentication", "signing in"},
    };
    return LOOKUP(m, purpose);
}

const char *cu_wording_consent_method(const char *method)
{
    static const pair m[] = {
        {"web_form", "on a web form"},
        {"paper", "on a paper form"},
        {"staff", "by telling our staff"},
        {"api", "through an app"},
        {"email", "by email"},
        {"phone", "by phone"},
        {"unsubscribe_link", "with an unsubscribe link"},
        {"portal", "on our patient portal"},
    };
    return LOOKUP(m, method);
}

const char *cu_wording_channel(const char *channel)
{
    static const pair m[] = {
        {"letter", "by letter"},
        {"email", "by email"},
        {"phone", "by phone"},
        {"portal", "through an online portal"},
        {"file", "as a file"},
        {"https", "over a secure internet connection"},
        {"other", "by other means"},
    };
    return LOOKUP(m, channel);
}

const char *cu_wording_request_kind(const char *kind)
{
    static const pair m[] = {
        {"access", "a copy of your data"},
        {"rectification", "correcting your data"},
        {"erasure", "erasing your data"},
        {"restriction", "restricting the use of your data"},
        {"objection", "objecting to a use of your data"},
        {"automated_decision", "a decision made about you by a computer alone"},
        {"portability", "your data in a form you can take elsewhere"},
    };
    return LOOKUP(m, kind);
}

const char *cu_wording_request_state(const char *state)
{
    static const pair m[] = {
        {"received", "received"},
        {"awaiting_identity", "waiting for proof of your identity"},
        {"awaiting_clarification", "waiting for you to clarify your request"},
        {"in_progress", "in progress"},
        {"extended", "in progress, with more time to answer"},
        {"fulfilled", "completed"},
        {"refused", "refused"},
        {"withdrawn", "withdrawn"},
    };
    return LOOKUP(m, state);
}

void cu_wording_retention(const cu_pol_retention *r, char *out, size_t outsz)
{
    char per[96];
    bool zero = cu_wording_period(r, CU_WORDING_LISTED, per, sizeof per) == 0;
    switch (r->trigger) {
    case CU_TRIGGER_LAST_CONTACT:
        if (zero)
            snprintf(out, outsz, "kept until your last contact with the service");
        else
            snprintf(out, outsz, "kept for %s after your last contact with the service", per);
        return;
    case CU_TRIGGER_END_OF_TREATMENT:
        if (zero)
            snprintf(out, outsz, "kept until your treatment ends");
        else
            snprintf(out, outsz, "kept for %s after your treatment ends", per);
        return;
    case CU_TRIGGER_DEATH:
        if (zero)
            snprintf(out, outsz, "kept until death");
        else
            snprintf(out, outsz, "kept for %s after death", per);
        return;
    case CU_TRIGGER_COLLECTION:
        if (zero)
            snprintf(out, outsz, "not kept after the moment we collect it");
        else
            snprintf(out, outsz, "kept for %s after we collect it", per);
        return;
    case CU_TRIGGER_BIRTHDAY:
        if (zero)
            snprintf(out, outsz, "kept until your %d%s birthday", r->age,
                     cu_wording_ordinal_suffix(r->age));
        else
            snprintf(out, outsz, "kept until %s after your %d%s birthday", per, r->age,
                     cu_wording_ordinal_suffix(r->age));
        return;
    case CU_TRIGGER_REQUEST:
        if (zero)
            snprintf(out, outsz, "kept until you ask us to delete it, and deleted as soon as "
                                 "you ask");
        else
            snprintf(out, outsz, "kept until you ask us to delete it, and deleted within %s "
                                 "of your asking", per);
        return;
    }
    snprintf(out, outsz, "kept for as long as our policy states");
}

/* 01:00 UTC on the last Sunday of a month, in microseconds. */
static int64_t last_sunday_1am(int year, int month)
{
    cu_date d = {year, month, cu_days_in_month(year, month)};
    d.day -= cu_date_weekday(d) % 7;
    return (cu_date_to_days(d) * 86400 + 3600) * INT64_C(1000000);
}

cu_uk_time cu_wording_uk_time(int64_t us)
{
    cu_date utc = cu_date_of_us(us);
    bool bst = us >= last_sunday_1am(utc.year, 3) && us < last_sunday_1am(utc.year, 10);
    int64_t local = us + (bst ? INT64_C(3600000000) : 0);
    int64_t secs = local >= 0 ? local / 1000000 : -((-local + 999999) / 1000000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    cu_date d = cu_date_of_days(days);
    return (cu_uk_time){d.year, d.month, d.day, (int)(rem / 3600), (int)(rem % 3600 / 60), bst};
}

static const char *const month_names[] = {"January", "February", "March",     "April",
                                          "May",     "June",     "July",      "August",
                                          "September", "October", "November", "December"};

void cu_wording_day(cu_date d, char *out, size_t outsz)
{
    if (d.month < 1 || d.month > 12)
        snprintf(out, outsz, "an unknown date");
    else
        snprintf(out, outsz, "%d %s %d", d.day, month_names[d.month - 1], d.year);
}

void cu_wording_date(int64_t us, char *out, size_t outsz)
{
    if (!us) {
        snprintf(out, outsz, "-");
        return;
    }
    cu_uk_time t = cu_wording_uk_time(us);
    cu_wording_day((cu_date){.year = t.year, .month = t.month, .day = t.day}, out, outsz);
}

void cu_wording_time(int64_t us, char *out, size_t outsz)
{
    if (!us) {
        snprintf(out, outsz, "-");
        return;
    }
    cu_uk_time t = cu_wording_uk_time(us);
    snprintf(out, outsz, "%d %s %d, %02d:%02d", t.day, month_names[t.month - 1], t.year, t.hour,
             t.minute);
}

size_t cu_wording_nhs_number(const char *value, char *out, size_t outsz)
{
    cu_nhs nhs;
    if (!value || cu_nhs_parse(value, strlen(value), &nhs) != CU_NHS_OK ||
        outsz <= strlen(nhs.display))
        return 0;
    return (size_t)snprintf(out, outsz, "%s", nhs.display);
}
