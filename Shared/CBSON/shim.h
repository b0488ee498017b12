#ifndef HERALD_CBSON_SHIM_H
#define HERALD_CBSON_SHIM_H
#include <bson/bson.h>
#include <string.h>

/// A read-only `bson_t` over bytes the caller keeps alive (Swift imports the over-aligned
/// `bson_t` only as an opaque pointer, so it is allocated here). Free with `herald_bson_view_free`.
static inline bson_t *herald_bson_view(const uint8_t *data, size_t length) {
    bson_t *b = (bson_t *) bson_malloc(sizeof(bson_t));
    if (!bson_init_static(b, data, length)) { bson_free(b); return NULL; }
    return b;
}
static inline void herald_bson_view_free(bson_t *b) { if (b) { bson_destroy(b); bson_free(b); } }
#endif
