/* The reference for the MongoDB benchmark: libmongoc used directly.
 * Inserts COUNT documents of the benchmark's shape with insert_many in batches of BATCH, then
 * reads them all back with one cursor, reading every field of each document with bson_iter.
 * Prints: insert_per_s=<rate> read_per_s=<rate>
 * usage: mongo_reference URI DATABASE COUNT BATCH */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s URI DATABASE COUNT BATCH\n", argv[0]);
        return 64;
    }
    long count = atol(argv[3]), batch = atol(argv[4]);
    mongoc_init();
    bson_error_t error;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(argv[1], &error);
    if (!uri) { fprintf(stderr, "%s\n", error.message); return 1; }
    mongoc_client_pool_t *pool = mongoc_client_pool_new(uri);
    mongoc_client_pool_set_error_api(pool, 2);
    mongoc_client_t *client = mongoc_client_pool_pop(pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(client, argv[2], "rows");

    bson_t **docs = calloc(batch, sizeof(bson_t *));
    double start = now();
    for (long i = 0; i < count; i += batch) {
        long n = (count - i < batch) ? count - i : batch;
        for (long j = 0; j < n; j++) {
            long k = i + j;
            char email[64];
            snprintf(email, sizeof email, "user%ld@example.com", k);
            docs[j] = BCON_NEW("_id", BCON_INT64(k), "accountId", BCON_INT64(1), "email", BCON_UTF8(email),
                               "firstName", BCON_UTF8("Ann"), "lastName", BCON_UTF8("Example"), "age", BCON_INT64(k % 90),
                               "score", BCON_DOUBLE(k * 0.5), "active", BCON_BOOL(k % 2), "city", BCON_UTF8("Berlin"),
                               "createdAt", BCON_DATE_TIME(1700000000000LL + k));
        }
        if (!mongoc_collection_insert_many(coll, (const bson_t **)docs, n, NULL, NULL, &error)) {
            fprintf(stderr, "insert_many: %s\n", error.message);
            return 1;
        }
        for (long j = 0; j < n; j++) bson_destroy(docs[j]);
    }
    double insert_rate = count / (now() - start);

    start = now();
    bson_t filter = BSON_INITIALIZER;
    mongoc_cursor_t *cursor = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
    const bson_t *doc;
    long read = 0, checksum = 0;
    while (mongoc_cursor_next(cursor, &doc)) {
        bson_iter_t it;
        if (bson_iter_init(&it, doc)) {
            while (bson_iter_next(&it)) {
                switch (bson_iter_type(&it)) {
                case BSON_TYPE_INT64: checksum += bson_iter_int64(&it); break;
                case BSON_TYPE_UTF8: { uint32_t len; bson_iter_utf8(&it, &len); checksum += len; break; }
                case BSON_TYPE_DOUBLE: checksum += (long)bson_iter_double(&it); break;
                case BSON_TYPE_BOOL: checksum += bson_iter_bool(&it); break;
                case BSON_TYPE_DATE_TIME: checksum += bson_iter_date_time(&it) & 1; break;
                default: break;
                }
            }
        }
        read++;
    }
    if (mongoc_cursor_error(cursor, &error)) { fprintf(stderr, "cursor: %s\n", error.message); return 1; }
    double read_rate = read / (now() - start);
    if (read != count) { fprintf(stderr, "read %ld of %ld\n", read, count); return 1; }
    printf("insert_per_s=%.0f read_per_s=%.0f checksum=%ld\n", insert_rate, read_rate, checksum);
    mongoc_cursor_destroy(cursor);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(pool, client);
    mongoc_client_pool_destroy(pool);
    mongoc_uri_destroy(uri);
    mongoc_cleanup();
    free(docs);
    return 0;
}
