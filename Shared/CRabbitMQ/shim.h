#ifndef HERALD_CRABBITMQ_SHIM_H
#define HERALD_CRABBITMQ_SHIM_H
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_framing.h>
#include <poll.h>

/// `amqp_empty_table` is an extern global; Swift reads it through this.
static inline amqp_table_t herald_amqp_empty_table(void) { return amqp_empty_table; }
/// `amqp_login_with_properties` is variadic, which Swift cannot call: PLAIN login with a user and password.
static inline amqp_rpc_reply_t herald_amqp_login(amqp_connection_state_t state, const char *vhost, int frame_max,
                                                 int heartbeat, const amqp_table_t *properties,
                                                 const char *user, const char *password) {
    return amqp_login_with_properties(state, vhost, 0, frame_max, heartbeat, properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}

/// Sends channel.close-ok after the broker closed `channel`.
static inline int herald_amqp_channel_close_ok(amqp_connection_state_t state, amqp_channel_t channel) {
    amqp_channel_close_ok_t ok;
    return amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
}

/// Sends connection.close-ok after the broker closed the connection.
static inline int herald_amqp_connection_close_ok(amqp_connection_state_t state) {
    amqp_connection_close_ok_t ok;
    return amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
}
#endif
