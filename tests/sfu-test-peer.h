/* SPDX-License-Identifier: MIT */
/* A minimal ICE peer for the transport tests: real UDP and TCP sockets on 127.0.0.1 that
 * send Binding requests built with sfu-stun (signed with the server's password, as a full
 * ICE agent does), and a session wrapper that records what the SFU delivers upward. */
#pragma once

#include "sfu-ice.h"
#include "sfu-stun.h"

#define SERVER_UFRAG "srvUfrag1"
#define SERVER_PWD "server+password/0123456789"
#define PEER_UFRAG "peerUfrag"

typedef struct {
  SfuPacketKind kind;
  gsize len;
  guint8 data[2048];
  gboolean on_owner_thread;
} TestPacket;

typedef struct {
  SfuIceAgent *agent;
  SfuLoop *loop;
  SfuIceSession *session; /* NULL once freed */
  GAsyncQueue *packets;   /* of TestPacket */
  gint closed;            /* atomic: closed callback count */
  gint selected;          /* atomic: selected callback count */
  gboolean free_on_close;
} TestSession;

/* Creates the session on @loop's thread; NULL with @error set when the table refuses it. */
TestSession *test_session_new (SfuIceAgent *agent, SfuLoop *loop, const char *ufrag,
                               const char *pwd, const char *remote_ufrag, GError **error);
void test_session_free (TestSession *ts);
/* Runs on the session's loop: sfu_ice_session_send. */
gboolean test_session_send (TestSession *ts, const guint8 *data, gsize len);
gboolean test_session_get_selected (TestSession *ts, SfuAddress *addr, gboolean *is_tcp,
                                    gboolean *nominated);

/* Polls @check every 5 ms for up to 10 s. */
gboolean test_wait_until (gboolean (*check) (gpointer), gpointer data);

int test_udp_socket (SfuAddress *local);
void test_udp_send (int fd, guint16 port, const guint8 *data, gsize len);
/* FALSE when nothing came within @timeout_ms. */
gboolean test_recv (int fd, guint8 *buf, gsize cap, gsize *len, int timeout_ms);

gsize test_build_check (guint8 *out, gsize cap, const char *server_ufrag, const char *pwd,
                        gboolean use_candidate, guint8 txid[SFU_STUN_TXID_SIZE]);
/* Parses a reply and checks its txid; returns its type (0 when unparsable or another txid). */
guint16 test_parse_reply (const guint8 *buf, gsize len, const guint8 txid[SFU_STUN_TXID_SIZE],
                          SfuStunMessage *msg);

int test_tcp_connect (guint16 port);
void test_tcp_send_raw (int fd, const guint8 *data, gsize len);
void test_tcp_send_frame (int fd, const guint8 *data, gsize len);
/* Reads one RFC 4571 frame; FALSE on EOF or timeout. */
gboolean test_tcp_recv_frame (int fd, guint8 *buf, gsize cap, gsize *len, int timeout_ms);
/* TRUE when the server closed the connection (EOF or reset) within 10 s. */
gboolean test_tcp_wait_closed (int fd);

/* A DTLS-looking record (content type 22, version 1.2) and an RTP packet. */
gsize test_fake_dtls (guint8 *out);
gsize test_fake_rtp (guint8 *out, guint16 seq);
