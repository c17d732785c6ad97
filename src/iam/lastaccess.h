/* lastaccess.h: when each IAM user and role last attempted each action (service last-accessed
 * reports of IAM: GenerateServiceLastAccessedDetails), recorded by authorization. */
#ifndef NB_IAM_LASTACCESS_H
#define NB_IAM_LASTACCESS_H

#include <stddef.h>

/* An authenticated attempt (allowed or not, as AWS counts them) by the entity of unique id
 * entity_id (AIDA... user, AROA... role) to perform action ("s3:GetObject") in region. */
void nb_last_access_record(const char *entity_id, const char *action, const char *region);

/* Each recorded action of an entity: fn(arg, action, when, region). */
typedef void (*nb_last_access_fn)(void *arg, const char *action, double when, const char *region);
void nb_last_access_each(const char *entity_id, nb_last_access_fn fn, void *arg);

/* Forget everything (POST /_nimbus/reset). */
void nb_last_access_clear(void);

#endif
