/* service.c: the S3 service table (operation name -> handler, IAM action) and its lifecycle. */
#include <openssl/evp.h>
#include <stdio.h>

#include "svc/service.h"

/* The canonical user id S3 shows as Owner.ID. Until IAM stores one per account, it is derived
 * deterministically: hex SHA-256 of "nimbus-canonical:" + account id (64 hex chars, the same
 * length as AWS's canonical ids). out must hold 65 bytes. */
void nb_s3_canonical_id(const char *account, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    char in[64];
    int n = snprintf(in, sizeof in, "nimbus-canonical:%s", account ? account : "");
    EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
    nb_hex(md, 32, out);
}

static int op_list_buckets(nb_call *c)
{
    char id[65];
    nb_s3_canonical_id(c->who.account, id);
    json_t *out = json_object();
    json_object_set_new(out, "Buckets", json_array());
    json_object_set_new(out, "Owner", json_pack("{s:s,s:s}", "ID", id, "DisplayName", "nimbus"));
    c->output = out;
    return 0;
}

static int s3_init(const nb_svc_env *env, char **err)
{
    NB_UNUSED(env);
    NB_UNUSED(err);
    return 0;
}

static int s3_reset(void) { return 0; }

static const nb_op_def s3_ops[] = {
    {"ListBuckets", op_list_buckets, 0, "s3:ListAllMyBuckets", NULL},
};

const nb_service nb_svc_s3 = {
    .name = "s3",
    .model = "s3",
    .ops = s3_ops,
    .nops = NB_ARRAY_LEN(s3_ops),
    .init = s3_init,
    .reset = s3_reset,
};
