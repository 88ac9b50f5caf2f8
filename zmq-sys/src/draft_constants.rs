//! The numbers of libzmq 4.3.5's DRAFT API: socket types, socket and
//! context options and their values, message property names and monitor
//! events, exactly as `#define`d in the DRAFT section of `zmq.h`.
//!
//! They are compiled on every build, with or without the `draft` feature, so a
//! safe layer can name a DRAFT option whatever it links: setting one on a
//! libzmq built without the DRAFT API fails at run time with `EINVAL`, which
//! is the caller's to report. With the `draft` feature the bindings define the
//! same names with the same values; the crate root re-exports this module only
//! without it.
//!
//! `tests/declared.rs` checks every value against `zmq.h`: the DRAFT section
//! of 4.3.5 (through the committed `src/bindings/draft.rs`, which CI
//! regenerates from it) and of the header actually linked.

// DRAFT socket types.

/// Socket type SERVER: a thread-safe ROUTER that addresses peers by routing id
/// (RFC 41).
pub const ZMQ_SERVER: i32 = 12;
/// Socket type CLIENT: a thread-safe DEALER without multipart messages (RFC
/// 41).
pub const ZMQ_CLIENT: i32 = 13;
/// Socket type RADIO: sends messages to groups, over UDP or TCP (RFC 48).
pub const ZMQ_RADIO: i32 = 14;
/// Socket type DISH: receives the messages of the groups it joined (RFC 48).
pub const ZMQ_DISH: i32 = 15;
/// Socket type GATHER: a thread-safe PULL (RFC 49).
pub const ZMQ_GATHER: i32 = 16;
/// Socket type SCATTER: a thread-safe PUSH (RFC 49).
pub const ZMQ_SCATTER: i32 = 17;
/// Socket type DGRAM: raw UDP datagrams addressed by the first frame.
pub const ZMQ_DGRAM: i32 = 18;
/// Socket type PEER: thread-safe, connects to many peers and addresses them by
/// routing id (RFC 51).
pub const ZMQ_PEER: i32 = 19;
/// Socket type CHANNEL: a thread-safe PAIR (RFC 52).
pub const ZMQ_CHANNEL: i32 = 20;

// DRAFT socket options.

/// Socket option: ZAP requests require a matching `ZMQ_ZAP_DOMAIN` (int,
/// boolean).
pub const ZMQ_ZAP_ENFORCE_DOMAIN: i32 = 93;
/// Socket option: use the Windows TCP loopback fast path (int, boolean).
pub const ZMQ_LOOPBACK_FASTPATH: i32 = 94;
/// Socket option: a `name:value` property added to the handshake metadata
/// (string).
pub const ZMQ_METADATA: i32 = 95;
/// Socket option: loop UDP multicast back to the sending host (int, boolean).
pub const ZMQ_MULTICAST_LOOP: i32 = 96;
/// Socket option: ROUTER/SERVER receives an empty message with the routing id
/// on connect and/or disconnect (int, `ZMQ_NOTIFY_*` bits).
pub const ZMQ_ROUTER_NOTIFY: i32 = 97;
/// Socket option: XPUB manual mode that sends the last value only to the new
/// subscriber (int, boolean).
pub const ZMQ_XPUB_MANUAL_LAST_VALUE: i32 = 98;
/// Socket option: user name for the SOCKS5 proxy (string).
pub const ZMQ_SOCKS_USERNAME: i32 = 99;
/// Socket option: password for the SOCKS5 proxy (string).
pub const ZMQ_SOCKS_PASSWORD: i32 = 100;
/// Socket option: the largest batch of bytes read from the network at once
/// (int).
pub const ZMQ_IN_BATCH_SIZE: i32 = 101;
/// Socket option: the largest batch of bytes written to the network at once
/// (int).
pub const ZMQ_OUT_BATCH_SIZE: i32 = 102;
/// Socket option: the private key of a `wss://` server, PEM (string).
pub const ZMQ_WSS_KEY_PEM: i32 = 103;
/// Socket option: the certificate of a `wss://` server, PEM (string).
pub const ZMQ_WSS_CERT_PEM: i32 = 104;
/// Socket option: the certificate a `wss://` client trusts, PEM (string).
pub const ZMQ_WSS_TRUST_PEM: i32 = 105;
/// Socket option: the host name a `wss://` client checks the server certificate
/// against (string).
pub const ZMQ_WSS_HOSTNAME: i32 = 106;
/// Socket option: a `wss://` client trusts the system certificate store (int,
/// boolean).
pub const ZMQ_WSS_TRUST_SYSTEM: i32 = 107;
/// Socket option: only the first frame of a multipart (un)subscription counts
/// (int, boolean).
pub const ZMQ_ONLY_FIRST_SUBSCRIBE: i32 = 108;
/// Socket option: when to stop reconnecting (int, `ZMQ_RECONNECT_STOP_*` bits).
pub const ZMQ_RECONNECT_STOP: i32 = 109;
/// Socket option: a message sent to every new peer on connect (binary).
pub const ZMQ_HELLO_MSG: i32 = 110;
/// Socket option: a message the socket receives when a peer disconnects
/// (binary).
pub const ZMQ_DISCONNECT_MSG: i32 = 111;
/// Socket option: `SO_PRIORITY` of the underlying sockets (int).
pub const ZMQ_PRIORITY: i32 = 112;
/// Socket option: `SO_BUSY_POLL` on the underlying TCP sockets (int, boolean).
pub const ZMQ_BUSY_POLL: i32 = 113;
/// Socket option: a message the socket receives when a connected peer drops and
/// comes back (binary).
pub const ZMQ_HICCUP_MSG: i32 = 114;
/// Socket option: XSUB passes on duplicate unsubscriptions (int, boolean).
pub const ZMQ_XSUB_VERBOSE_UNSUBSCRIBE: i32 = 115;
/// Socket option, read only: how many subscriptions the socket holds (int).
pub const ZMQ_TOPICS_COUNT: i32 = 116;
/// Socket option: NORM sender congestion mode (int,
/// `ZMQ_NORM_FIXED`..`ZMQ_NORM_CCE_ECNONLY`).
pub const ZMQ_NORM_MODE: i32 = 117;
/// Socket option: NORM receivers send NACKs by unicast (int, boolean).
pub const ZMQ_NORM_UNICAST_NACK: i32 = 118;
/// Socket option: NORM buffer size, in kB (int).
pub const ZMQ_NORM_BUFFER_SIZE: i32 = 119;
/// Socket option: NORM segment size, in bytes (int).
pub const ZMQ_NORM_SEGMENT_SIZE: i32 = 120;
/// Socket option: NORM FEC block size, in segments (int).
pub const ZMQ_NORM_BLOCK_SIZE: i32 = 121;
/// Socket option: NORM parity segments computed per block (int).
pub const ZMQ_NORM_NUM_PARITY: i32 = 122;
/// Socket option: NORM parity segments sent proactively per block (int).
pub const ZMQ_NORM_NUM_AUTOPARITY: i32 = 123;
/// Socket option: NORM stream push mode (int, boolean).
pub const ZMQ_NORM_PUSH: i32 = 124;

// Values of ZMQ_NORM_MODE.

/// `ZMQ_NORM_MODE` value: fixed rate.
pub const ZMQ_NORM_FIXED: i32 = 0;
/// `ZMQ_NORM_MODE` value: congestion control.
pub const ZMQ_NORM_CC: i32 = 1;
/// `ZMQ_NORM_MODE` value: loss-tolerant congestion control.
pub const ZMQ_NORM_CCL: i32 = 2;
/// `ZMQ_NORM_MODE` value: ECN-based congestion control.
pub const ZMQ_NORM_CCE: i32 = 3;
/// `ZMQ_NORM_MODE` value: ECN-only congestion control.
pub const ZMQ_NORM_CCE_ECNONLY: i32 = 4;

// Values of ZMQ_RECONNECT_STOP (bits).

/// `ZMQ_RECONNECT_STOP` bit: stop after a refused connection.
pub const ZMQ_RECONNECT_STOP_CONN_REFUSED: i32 = 1;
/// `ZMQ_RECONNECT_STOP` bit: stop after a failed handshake.
pub const ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED: i32 = 2;
/// `ZMQ_RECONNECT_STOP` bit: stop after `zmq_disconnect`.
///
/// libzmq 4.3.4's header gives this bit as 3 (overlapping the other two);
/// 4.3.5 fixed it to 4, the value here.
pub const ZMQ_RECONNECT_STOP_AFTER_DISCONNECT: i32 = 4;

// DRAFT context options.

/// Context option: the message decoder avoids copies for large messages (int,
/// boolean).
pub const ZMQ_ZERO_COPY_RECV: i32 = 10;

// DRAFT message property names.

/// Message property name (`zmq_msg_gets`): the routing id of the sender.
pub const ZMQ_MSG_PROPERTY_ROUTING_ID: &[u8; 11] = b"Routing-Id\0";
/// Message property name (`zmq_msg_gets`): the socket type of the peer.
pub const ZMQ_MSG_PROPERTY_SOCKET_TYPE: &[u8; 12] = b"Socket-Type\0";
/// Message property name (`zmq_msg_gets`): the user id set by ZAP.
pub const ZMQ_MSG_PROPERTY_USER_ID: &[u8; 8] = b"User-Id\0";
/// Message property name (`zmq_msg_gets`): the peer's address.
pub const ZMQ_MSG_PROPERTY_PEER_ADDRESS: &[u8; 13] = b"Peer-Address\0";

// Values of ZMQ_ROUTER_NOTIFY (bits).

/// `ZMQ_ROUTER_NOTIFY` bit: notify when a peer connects.
pub const ZMQ_NOTIFY_CONNECT: i32 = 1;
/// `ZMQ_ROUTER_NOTIFY` bit: notify when a peer disconnects.
pub const ZMQ_NOTIFY_DISCONNECT: i32 = 2;

// DRAFT socket monitor events.

/// Monitor event (version 2): pipe statistics, after
/// `zmq_socket_monitor_pipes_stats`.
pub const ZMQ_EVENT_PIPES_STATS: i32 = 65536;
/// Monitor event format version 1 (`zmq_socket_monitor_versioned`).
pub const ZMQ_CURRENT_EVENT_VERSION: i32 = 1;
/// Monitor event format version 2 (`zmq_socket_monitor_versioned`).
pub const ZMQ_CURRENT_EVENT_VERSION_DRAFT: i32 = 2;
/// Every monitor event of format version 1.
pub const ZMQ_EVENT_ALL_V1: i32 = crate::ZMQ_EVENT_ALL;
/// Every monitor event of format version 2.
pub const ZMQ_EVENT_ALL_V2: i32 = ZMQ_EVENT_ALL_V1 | ZMQ_EVENT_PIPES_STATS;
