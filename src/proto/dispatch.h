/* dispatch.h: the single endpoint: every HTTP request on the main port enters here, is
 * authenticated (SigV4), routed to a service and operation, decoded by the model, authorized,
 * handed to its handler (on the loop or a worker), and its answer encoded. */
#ifndef NB_PROTO_DISPATCH_H
#define NB_PROTO_DISPATCH_H

#include "core/config.h"
#include "http/http.h"

/* Remember the configuration (region, s3 domain) the dispatcher needs. */
void nb_dispatch_init(const nb_config *cfg);
/* The main listener's on_request. */
void nb_dispatch_request(nb_req *r);
/* The website port's on_request: S3 website endpoints by Host header. */
void nb_dispatch_website(nb_req *r);
/* Services come up after the listeners (so the first request is served within milliseconds
 * of exec): until nb_dispatch_ready() is called, service requests are parked and resumed on
 * their loops then; the admin surface answers at once. */
void nb_dispatch_ready(void);
bool nb_dispatch_is_ready(void);
/* Run a service's handler against a decoded call (internal calls between services use
 * their C APIs instead; this exists for tests). */

/* Admin surface: /_nimbus/... (health, clock, reset). Implemented in src/admin/admin.c. */
void nb_admin_handle(nb_req *r);
/* Seconds since the server started (for health). */
double nb_uptime(void);

#endif
