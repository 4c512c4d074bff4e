/* SPDX-License-Identifier: MIT */
#pragma once

#include "sfu-loop.h"
#include "sfu-packet.h"

G_BEGIN_DECLS

/* Passive ICE-TCP (RFC 6544) on the media port number, for networks that block UDP. Every
 * packet a UDP peer would send as a datagram comes as one RFC 4571 frame: a 2-byte
 * big-endian length, then that many bytes. To the ICE layer a connection is just another
 * address of a session.
 *
 * Each loop has its own SO_REUSEPORT listening socket. A connection starts "pending": it
 * belongs to the loop that accepted it and has pending_timeout to get bound (sfu-ice binds
 * it on its first authenticated Binding request), or it is closed; at most max_pending per
 * loop, the oldest closed first, so a slowloris cannot hold the port. When the session that
 * a frame is for lives on another loop, sfu_tcp_conn_move() hands the connection over and
 * the frame is delivered again there. Input is one fixed buffer per connection (2 +
 * max_frame bytes; a larger length field closes it); output is bounded by max_output bytes
 * (a frame that does not fit is dropped: media tolerates loss, an unbounded queue does not)
 * and is written once per loop wakeup. */

typedef struct _SfuTcp SfuTcp;
typedef struct _SfuTcpConn SfuTcpConn;

typedef struct {
  gsize max_frame;           /* largest frame accepted, <= 65535 (default 2048) */
  gsize max_output;          /* bytes queued for sending per connection (default 256 KiB) */
  guint max_connections;     /* over all loops (default 1024); more are closed on accept */
  guint max_pending;         /* unbound connections per loop (default 32) */
  gint64 pending_timeout_us; /* to get bound (default 5 s) */
} SfuTcpLimits;

typedef struct {
  guint64 accepted, refused; /* refused: over max_connections */
  guint64 evicted;           /* pending closed to make room for a new one */
  guint64 timed_out;         /* pending past pending_timeout */
  guint64 oversize;          /* closed for a length field over max_frame */
  guint64 frames_in, frames_out;
  guint64 output_dropped; /* frames that did not fit in max_output */
} SfuTcpStats;

typedef struct {
  /* On the connection's loop. @frame is writable and valid during the call. The callback
   * may call sfu_tcp_conn_move() or sfu_tcp_conn_close(). */
  void (*frame) (SfuTcp *tcp, SfuTcpConn *conn, guint8 *frame, gsize len, gpointer user_data);
  /* On the connection's loop, once, just before it is freed (peer closed, error, limit,
   * sfu_tcp_conn_close() or sfu_tcp_free()). */
  void (*closed) (SfuTcp *tcp, SfuTcpConn *conn, gpointer user_data);
} SfuTcpCallbacks;

void sfu_tcp_limits_init (SfuTcpLimits *limits);

/* Listens on @bind_host (an IP literal, NULL for 0.0.0.0) and @port (0: ephemeral) on every
 * loop of @group and accepts at once. From outside the loops. */
SfuTcp *sfu_tcp_new (SfuLoopGroup *group, const char *bind_host, guint16 port,
                     const SfuTcpLimits *limits, const SfuTcpCallbacks *callbacks,
                     gpointer user_data, GError **error);
/* From outside the loops: closes every connection (the closed callback runs for each). */
void sfu_tcp_free (SfuTcp *tcp);
guint16 sfu_tcp_get_port (SfuTcp *tcp);
void sfu_tcp_get_stats (SfuTcp *tcp, SfuTcpStats *out);

/* The rest: on the connection's loop. */
SfuLoop *sfu_tcp_conn_get_loop (SfuTcpConn *conn);
const SfuAddress *sfu_tcp_conn_get_peer (SfuTcpConn *conn);
/* Binds the connection to @owner (no longer pending) or, with NULL, makes it pending again
 * (its timeout starting now). */
void sfu_tcp_conn_set_owner (SfuTcpConn *conn, gpointer owner);
gpointer sfu_tcp_conn_get_owner (SfuTcpConn *conn);
/* Frames and queues @data; FALSE when it is empty, over 65535 bytes, does not fit in the
 * output limit, or the connection is closing. */
gboolean sfu_tcp_conn_send (SfuTcpConn *conn, const guint8 *data, gsize len);
/* From inside the frame callback only: after it returns, the connection leaves this loop
 * for @to, where the same frame and everything after it are delivered again. */
void sfu_tcp_conn_move (SfuTcpConn *conn, SfuLoop *to);
/* Closes now (the closed callback runs now, the memory goes later if inside a callback). */
void sfu_tcp_conn_close (SfuTcpConn *conn);

/* The RFC 4571 deframer a connection reads through, public for the fuzz target. One fixed
 * buffer of 2 + max_frame bytes; no allocation after init. */
typedef struct {
  guint8 *buf;
  gsize cap, start, end; /* unread bytes are buf[start..end) */
  gsize max_frame;
} SfuTcpDeframer;

typedef enum {
  SFU_TCP_FRAME_NEED_MORE, /* no complete frame buffered */
  SFU_TCP_FRAME_OK,
  SFU_TCP_FRAME_TOO_BIG, /* the next length field is over max_frame: close the connection */
} SfuTcpFrameStatus;

void sfu_tcp_deframer_init (SfuTcpDeframer *d, gsize max_frame);
void sfu_tcp_deframer_clear (SfuTcpDeframer *d);
/* Where the next read() goes, and how much fits there (0 only when a whole frame is
 * buffered: take it with _next() first). Compacts the buffer. */
guint8 *sfu_tcp_deframer_get_space (SfuTcpDeframer *d, gsize *space);
/* @n bytes were written at get_space(); @n <= that space. */
void sfu_tcp_deframer_commit (SfuTcpDeframer *d, gsize n);
/* The next complete frame (which may be empty), without consuming it. */
SfuTcpFrameStatus sfu_tcp_deframer_next (SfuTcpDeframer *d, guint8 **frame, gsize *len);
/* Drops the frame _next() returned. */
void sfu_tcp_deframer_consume (SfuTcpDeframer *d);

G_END_DECLS
