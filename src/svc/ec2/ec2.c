/* ec2.c: Amazon EC2 (ec2 protocol). So far: DescribeRegions (this server is one region);
 * instances, networks and volumes arrive with the EC2/VPC issues. */
#include "svc/service.h"

#include <stdio.h>

/* Does the region pass the request's filters (region-name, endpoint, opt-in-status)? */
static bool region_matches(json_t *filters, const char *name, const char *endpoint)
{
    size_t i;
    json_t *f;
    json_array_foreach(filters, i, f) {
        const char *fname = json_string_value(json_object_get(f, "Name"));
        json_t *vals = json_object_get(f, "Values");
        const char *have = NULL;
        if (!fname) continue;
        if (!strcmp(fname, "region-name")) have = name;
        else if (!strcmp(fname, "endpoint")) have = endpoint;
        else if (!strcmp(fname, "opt-in-status")) have = "opt-in-not-required";
        else return false;
        bool any = false;
        size_t j;
        json_t *v;
        json_array_foreach(vals, j, v) {
            const char *s = json_string_value(v);
            if (s && strcmp(s, have) == 0) any = true;
        }
        if (!any) return false;
    }
    return true;
}

static int describe_regions(nb_call *c)
{
    char endpoint[128];
    snprintf(endpoint, sizeof(endpoint), "ec2.%s.amazonaws.com", c->region);
    json_t *names = json_object_get(c->input, "RegionNames");
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) {
        const char *s = json_string_value(v);
        if (!s || strcmp(s, c->region) != 0)
            return nb_call_error(c, 400, "InvalidParameterValue", "Invalid region: %s",
                                 s ? s : "");
    }
    json_t *regions = json_array();
    if (region_matches(json_object_get(c->input, "Filters"), c->region, endpoint))
        json_array_append_new(regions, json_pack("{s:s, s:s, s:s}", "RegionName", c->region,
                                                 "Endpoint", endpoint, "OptInStatus",
                                                 "opt-in-not-required"));
    c->output = json_pack("{s:o}", "Regions", regions);
    return c->output ? 0 : nb_call_error(c, 500, "InternalError", "Out of memory.");
}

static const nb_op_def ops[] = {
    {"DescribeRegions", describe_regions, NB_OP_INLINE, NULL},
};

const nb_service nb_svc_ec2 = {
    .name = "ec2",
    .model = "ec2",
    .ops = ops,
    .nops = NB_ARRAY_LEN(ops),
};
