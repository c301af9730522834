/* The store's configuration file, DIR/custos.conf. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "cli/cli.h"
#include "iface/link.h"

/* Lines are "key = value"; blank lines and lines starting with '#' are
 * ignored. Known keys: master_key_file, bank_holidays_file, public_url. Anything else is an error, so a typo
 * never silently falls back to a default key. */
int cli_load_config(cli *c, cu_err *err)
{
    /* The database the store is in, when not the directory's SQLite file. */
    if (cu_vault_set_database(c->database, err))
        return err ? err->code : CU_EINVAL;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/custos.conf", c->store) >= (int)sizeof path)
        return cu_err_set(err, CU_EINVAL, "store path too long");
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? CU_OK
                               : cu_err_set(err, CU_EIO, "cannot read %s: %s", path,
                                            strerror(errno));
    char line[4200];
    int lineno = 0, rc = CU_OK;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n && line[n - 1] != '\n' && !feof(f)) {
            rc = cu_err_set(err, CU_EINVAL, "%s:%d: line too long", path, lineno);
            break;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        char *eq = strchr(p, '=');
        if (!eq) {
            rc = cu_err_set(err, CU_EINVAL, "%s:%d: expected key = value", path, lineno);
            break;
        }
        char *k_end = eq;
        while (k_end > p && (k_end[-1] == ' ' || k_end[-1] == '\t'))
            k_end--;
        *k_end = '\0';
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (strcmp(p, "master_key_file") == 0 && *v) {
            if (!c->key_file) { /* the environment wins */
                cu_strlcpy(c->key_file_buf, v, sizeof c->key_file_buf);
                c->key_file = c->key_file_buf;
            }
        } else if (strcmp(p, "bank_holidays_file") == 0 && *v) {
            if (!c->holidays_file) { /* the environment wins */
                cu_strlcpy(c->holidays_file_buf, v, sizeof c->holidays_file_buf);
                c->holidays_file = c->holidays_file_buf;
            }
        } else if (strcmp(p, "public_url") == 0 && *v) {
            if (cu_strlcpy(c->public_url_conf, v, sizeof c->public_url_conf))
                rc = cu_err_set(err, CU_EINVAL, "%s:%d: public_url is too long", path, lineno);
        } else {
            rc = cu_err_set(err, CU_EINVAL, "%s:%d: unknown setting %s", path, lineno,
                            *v ? p : "(empty value)");
        }
    }
    fclose(f);
    return rc;
}

int cli_public_url(cli *c, const char *opt, cu_err *err)
{
    const char *env = getenv("CUSTOS_PUBLIC_URL");
    const char *url = opt, *from = "--public-url";
    if (!url && env && *env) {
        url = env;
        from = "CUSTOS_PUBLIC_URL";
    }
    if (!url && c->public_url_conf[0]) {
        url = c->public_url_conf;
        from = "custos.conf public_url";
    }
    if (!url)
        return CU_OK;
    cu_err e = {0};
    if (cu_public_url_set(url, &e))
        return cu_err_set(err, CU_EINVAL, "%s: %s", from, e.msg);
    return CU_OK;
}
