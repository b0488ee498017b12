#ifndef HERALD_CRABBITMQ_SHIM_H
#define HERALD_CRABBITMQ_SHIM_H
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_framing.h>
#include <poll.h>

/// `amqp_empty_table` and friends are extern globals; macros and flag words are wrapped here.
static inline amqp_table_t herald_amqp_empty_table(void) { return amqp_empty_table; }
static inline amqp_bytes_t herald_amqp_empty_bytes(void) { return amqp_empty_bytes; }
static inline amqp_flags_t herald_amqp_basic_flags(int contentType, int deliveryMode, int messageId,
                                                   int timestamp, int type, int appId, int headers,
                                                   int correlationId, int replyTo, int expiration) {
    amqp_flags_t f = 0;
    if (contentType) f |= AMQP_BASIC_CONTENT_TYPE_FLAG;
    if (deliveryMode) f |= AMQP_BASIC_DELIVERY_MODE_FLAG;
    if (messageId) f |= AMQP_BASIC_MESSAGE_ID_FLAG;
    if (timestamp) f |= AMQP_BASIC_TIMESTAMP_FLAG;
    if (type) f |= AMQP_BASIC_TYPE_FLAG;
    if (appId) f |= AMQP_BASIC_APP_ID_FLAG;
    if (headers) f |= AMQP_BASIC_HEADERS_FLAG;
    if (correlationId) f |= AMQP_BASIC_CORRELATION_ID_FLAG;
    if (replyTo) f |= AMQP_BASIC_REPLY_TO_FLAG;
    if (expiration) f |= AMQP_BASIC_EXPIRATION_FLAG;
    return f;
}

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
