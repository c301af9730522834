/*
 * node.h — several custos processes ("nodes") on one store.
 *
 * Each node has a name (`--node NAME`, CUSTOS_NODE, else the host name) and
 * its own Ed25519 signing key: a random seed kept in the store's keyring
 * under "node/NAME", wrapped by the master key like every keyring key (so a
 * master-key rotation rewraps it and a backup carries it), made the first
 * time the node opens the store. Its public key is recorded in node_keys,
 * an authenticated row (integrity.h): whoever can write the database but
 * cannot read the master key can neither add a key of their own nor swap
 * one. The signed audit head and each checkpoint name the node that signed
 * them and are checked against that node's recorded key; a head or
 * checkpoint that names no node is checked against the store's own audit
 * key (meta audit_public_key), so trails signed before nodes existed still
 * verify.
 */
#ifndef CUSTOS_DOMAIN_NODE_H
#define CUSTOS_DOMAIN_NODE_H

#include <stdbool.h>

#include "crypto/crypto.h"
#include "domain/vault.h"
#include "store/store.h"
#include "util/err.h"

/* 1 to 40 of [A-Za-z0-9._-], beginning with a letter or digit. */
bool cu_node_name_valid(const char *name);

/* Names this process's node: loads its key from the keyring, or makes it and
 * records its public key (one write transaction) when the store has none.
 * Until a node is set, heads are signed with the store's own key. A store
 * whose rows are not authenticated yet (opened only for checking) keeps
 * signing with the store's key. CU_EINVAL for a bad name; CU_ETAMPER when
 * the recorded key is not this node's. */
CU_MUST_USE int cu_vault_set_node(cu_vault *v, const char *name, cu_err *err);
/* The node's name ("" when none is set). */
const char *cu_vault_node(const cu_vault *v);

/* The public key that must have signed c: the recorded key of the node it
 * names (its row authenticated), or the store's key when it names none. A
 * store without its integrity key (opened only for checking) takes the key
 * from the node's seed in the keyring instead.
 * CU_ETAMPER naming the node when it has no recorded key or its row fails. */
CU_MUST_USE int cu_node_public_key(cu_vault *v, const char *node,
                                   unsigned char pk[CU_PUBKEY_BYTES], cu_err *err);
/* Every node's recorded key, by name, each row authenticated first
 * (CU_ETAMPER naming the first that fails). */
typedef int (*cu_node_cb)(void *ctx, const char *node, const unsigned char pk[CU_PUBKEY_BYTES]);
CU_MUST_USE int cu_node_each(cu_vault *v, cu_node_cb cb, void *ctx, cu_err *err);
/* Whether c's signature is genuine: CU_OK, or CU_ETAMPER with a reason. */
CU_MUST_USE int cu_node_checkpoint_check(cu_vault *v, const cu_checkpoint *c, cu_err *err);


#endif
