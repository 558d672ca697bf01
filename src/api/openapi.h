/* The OpenAPI 3.0 document of the REST API, made from the route tables
 * (pure): every route is in it because every route is in a table. */
#ifndef MOAT_API_OPENAPI_H
#define MOAT_API_OPENAPI_H
#include <stddef.h>

#include <jansson.h>

#include "api/route.h"

/* The document for tables (ntables of them); the caller decrefs it. */
json_t *openapi_doc(const struct api_route *const *tables, size_t ntables,
		    const char *version);

#endif
