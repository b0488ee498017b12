/* The reference for the AMQP benchmark: librabbitmq used directly, as a C program would.
 * Publishes COUNT persistent messages of SIZE bytes to QUEUE with publisher confirms, at most
 * WINDOW unconfirmed, then consumes them with prefetch PREFETCH and a manual ack per message.
 * Prints: publish_per_s=<rate> consume_per_s=<rate>
 * usage: amqp_reference HOST PORT QUEUE COUNT SIZE WINDOW PREFETCH */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void check(amqp_rpc_reply_t r, const char *what) {
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        fprintf(stderr, "%s failed (reply type %d)\n", what, r.reply_type);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: %s HOST PORT QUEUE COUNT SIZE WINDOW PREFETCH\n", argv[0]);
        return 64;
    }
    const char *host = argv[1], *queue = argv[3];
    int port = atoi(argv[2]);
    long count = atol(argv[4]), size = atol(argv[5]), window = atol(argv[6]);
    int prefetch = atoi(argv[7]);

    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t *socket = amqp_tcp_socket_new(conn);
    if (amqp_socket_open(socket, host, port) != AMQP_STATUS_OK) { fprintf(stderr, "cannot connect\n"); return 1; }
    check(amqp_login(conn, "/", 0, 131072, 30, AMQP_SASL_METHOD_PLAIN, "guest", "guest"), "login");
    amqp_channel_open(conn, 1);
    check(amqp_get_rpc_reply(conn), "channel.open");
    amqp_queue_declare(conn, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table);
    check(amqp_get_rpc_reply(conn), "queue.declare");
    amqp_confirm_select(conn, 1);
    check(amqp_get_rpc_reply(conn), "confirm.select");

    char *body = malloc(size);
    memset(body, 'x', size);
    amqp_basic_properties_t props;
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
    props.delivery_mode = 2;
    char id[32];

    double start = now();
    long sent = 0, confirmed = 0;
    while (confirmed < count) {
        while (sent < count && sent - confirmed < window) {
            snprintf(id, sizeof id, "%ld", sent);
            props.message_id = amqp_cstring_bytes(id);
            amqp_bytes_t b = {(size_t)size, body};
            if (amqp_basic_publish(conn, 1, amqp_empty_bytes, amqp_cstring_bytes(queue), 0, 0, &props, b) != AMQP_STATUS_OK) {
                fprintf(stderr, "publish failed\n");
                return 1;
            }
            sent++;
        }
        amqp_frame_t frame;
        if (amqp_simple_wait_frame(conn, &frame) != AMQP_STATUS_OK) { fprintf(stderr, "wait failed\n"); return 1; }
        if (frame.frame_type == AMQP_FRAME_METHOD && frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            amqp_basic_ack_t *ack = frame.payload.method.decoded;
            confirmed = ack->multiple ? (long)ack->delivery_tag : confirmed + 1;
        }
        amqp_maybe_release_buffers(conn);
    }
    double publish_rate = count / (now() - start);

    amqp_channel_open(conn, 2);
    check(amqp_get_rpc_reply(conn), "channel.open");
    amqp_basic_qos(conn, 2, 0, prefetch, 0);
    amqp_basic_consume(conn, 2, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    check(amqp_get_rpc_reply(conn), "basic.consume");
    start = now();
    long received = 0;
    while (received < count) {
        amqp_envelope_t envelope;
        amqp_maybe_release_buffers(conn);
        amqp_rpc_reply_t r = amqp_consume_message(conn, &envelope, NULL, 0);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
                amqp_frame_t frame;
                amqp_simple_wait_frame(conn, &frame);
                continue;
            }
            fprintf(stderr, "consume failed\n");
            return 1;
        }
        amqp_basic_ack(conn, 2, envelope.delivery_tag, 0);
        amqp_destroy_envelope(&envelope);
        received++;
    }
    double consume_rate = count / (now() - start);
    printf("publish_per_s=%.0f consume_per_s=%.0f\n", publish_rate, consume_rate);
    amqp_queue_delete(conn, 1, amqp_cstring_bytes(queue), 0, 0);
    amqp_channel_close(conn, 2, AMQP_REPLY_SUCCESS);
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
    free(body);
    return 0;
}
