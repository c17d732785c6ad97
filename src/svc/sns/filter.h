/* filter.h: SNS subscription filter policies: parse and validate them as AWS does (the
 * InvalidParameter messages of SetSubscriptionAttributes / Subscribe), and match a message's
 * attributes (FilterPolicyScope MessageAttributes) or its JSON body (MessageBody) against
 * them. Operators: exact string/number/boolean/null, prefix, suffix, anything-but (values,
 * prefix, suffix), numeric ranges, exists, equals-ignore-case, cidr, $or, nested keys (body
 * scope). */
#ifndef NB_SVC_SNS_FILTER_H
#define NB_SVC_SNS_FILTER_H

#include <jansson.h>

#include "core/nb.h"

typedef struct nb_sns_filter nb_sns_filter;

/* Parse text (len bytes, need not be NUL-terminated). body_scope: FilterPolicyScope
 * MessageBody. NULL with err (AWS's message, starting "Invalid parameter: ...") when the
 * policy is invalid. The caller frees the result with nb_sns_filter_free. */
nb_sns_filter *nb_sns_filter_parse(const char *text, size_t len, bool body_scope, char *err, size_t errn);
void nb_sns_filter_free(nb_sns_filter *f);
bool nb_sns_filter_body_scope(const nb_sns_filter *f);
/* attrs: the Publish MessageAttributes document (name -> {DataType, StringValue |
 * BinaryValue}); body: the message text (parsed as JSON for body-scope policies; a body that
 * is not a JSON object matches nothing). */
bool nb_sns_filter_match(const nb_sns_filter *f, json_t *attrs, const char *body, size_t body_len);

#endif
