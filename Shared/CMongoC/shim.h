#ifndef HERALD_CMONGOC_SHIM_H
#define HERALD_CMONGOC_SHIM_H
#include <mongoc/mongoc.h>

/// The error-API version that reports server errors with the server's own code.
static inline int herald_mongoc_error_api_version(void) { return MONGOC_ERROR_API_VERSION_2; }

/// A read-only `bson_t` over bytes the caller keeps alive (Swift imports the over-aligned
/// `bson_t` only as an opaque pointer, so it is allocated here). Free with `herald_mongoc_view_free`.
static inline bson_t *herald_mongoc_view(const uint8_t *data, size_t length) {
    bson_t *b = (bson_t *) bson_malloc(sizeof(bson_t));
    if (!bson_init_static(b, data, length)) { bson_free(b); return NULL; }
    return b;
}
static inline void herald_mongoc_view_free(bson_t *b) { if (b) { bson_destroy(b); bson_free(b); } }

/// A new empty, heap-allocated `bson_t` for replies. Free with `bson_destroy`.
static inline bson_t *herald_mongoc_new_reply(void) { return bson_new(); }
#endif
