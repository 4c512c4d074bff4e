/* SPDX-License-Identifier: MIT */
/* One incoming track's retransmission buffer. See sfu-packet-store.h for the contract.
 *
 * Numbering, with d = sfu_seq_diff (seq, newest):
 *
 *   0 < d <= MAX_DROPOUT        newer, maybe after a gap: stored, the window moves
 *   -slots < d <= 0             late or duplicate, inside the window: stored unless there
 *   MAX_DROPOUT < d, d <= -slots far: behind the window, a stray, or a sender that restarted
 *                               its numbering. Not stored; the store starts afresh from it
 *                               when its window has expired anyway, or when the next
 *                               packet follows it (RFC 3550 A.1), so that a stray packet
 *                               cannot empty a running store
 *
 * Invariants: every slot's ext is within the 2^16 block it was stored in, and a restart
 * moves `newest` at least 2^16 + 2^15 ahead, so no number looked up after a restart (at most
 * 2^15 behind the new newest) can equal a number stored before it. The bytes of a slot are
 * intact while head - slot.pos <= bytes. */
#include "sfu-packet-store.h"
#include "sfu-seq.h"

#include <string.h>

/* A forward jump up to this far is taken at once; the same bound as the out-streams'
 * (SFU_OUTSTREAM_MAX_DROPOUT), so that what one forwards the other stores. */
#define MAX_DROPOUT 3000
/* RTP fixed header: shorter bytes are not a packet anyone can resend. */
#define MIN_PACKET 12

typedef struct {
  guint64 pos; /* absolute byte position in the ring */
  guint64 ext; /* unwrapped sequence number */
  gint64 stored_us;
  guint16 len; /* 0: empty */
} Slot;

struct _SfuPacketStore {
  SfuPacketStoreConfig config;
  SfuPacketStoreStats stats;
  Slot *slots;
  guint8 *ring;
  guint64 head;       /* absolute position of the next byte written */
  gboolean any;       /* something was stored: ssrc, newest and newest_us are valid */
  guint32 ssrc;
  guint64 newest;     /* unwrapped newest stored number */
  gint64 newest_us;   /* when it was stored */
  gboolean probing;   /* a far packet was refused; probe_next would confirm it */
  guint16 probe_next;
};

void
sfu_packet_store_config_init (SfuPacketStoreConfig *config, gboolean video)
{
  g_return_if_fail (config != NULL);

  memset (config, 0, sizeof *config);
  config->max_age_us = G_USEC_PER_SEC;
  if (video) {
    config->slots = 512;
    config->bytes = 256 * 1024;
  } else {
    config->slots = 128;
    config->bytes = 16 * 1024;
  }
}

static gboolean
config_valid (const SfuPacketStoreConfig *c)
{
  if (c->max_age_us <= 0)
    return FALSE;
  if (c->slots == 0 || c->slots > 32768 || (c->slots & (c->slots - 1)) != 0)
    return FALSE;
  return c->bytes >= 2048 && c->bytes <= 64 * 1024 * 1024 && (c->bytes & (c->bytes - 1)) == 0;
}

SfuPacketStore *
sfu_packet_store_new (const SfuPacketStoreConfig *config)
{
  SfuPacketStore *s;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (config_valid (config), NULL);

  s = g_new0 (SfuPacketStore, 1);
  s->config = *config;
  s->slots = g_new0 (Slot, config->slots);
  /* Not zeroed: pages become resident only as packets are written. */
  s->ring = g_malloc (config->bytes);
  return s;
}

void
sfu_packet_store_free (SfuPacketStore *store)
{
  if (store == NULL)
    return;
  g_free (store->slots);
  g_free (store->ring);
  g_free (store);
}

/* Starts afresh at @seq of @ssrc: the first packet, a new SSRC, or a confirmed jump. */
static guint64
restart (SfuPacketStore *s, guint32 ssrc, guint16 seq, gint64 now_us)
{
  guint64 ext;

  if (s->any) {
    /* Two blocks up: see the invariant at the top. */
    ext = (s->newest | 0xFFFF) + 1 + 0x10000 + seq;
    s->stats.restarts++;
  } else {
    ext = 0x10000 + (guint64) seq;
  }
  s->any = TRUE;
  s->ssrc = ssrc;
  s->newest = ext;
  s->newest_us = now_us;
  s->probing = FALSE;
  return ext;
}

void
sfu_packet_store_put (SfuPacketStore *store, guint32 ssrc, guint16 seq, const guint8 *packet,
                      gsize len, gint64 now_us)
{
  SfuPacketStore *s = store;
  Slot *slot;
  guint64 ext;
  gsize cap, off;

  g_return_if_fail (s != NULL && (packet != NULL || len == 0));

  if (len < MIN_PACKET || len > SFU_PACKET_STORE_MAX_PACKET) {
    s->stats.oversize++;
    return;
  }

  if (G_UNLIKELY (!s->any || ssrc != s->ssrc)) {
    ext = restart (s, ssrc, seq, now_us);
  } else {
    gint d = sfu_seq_diff (seq, (guint16) s->newest);

    if (d > MAX_DROPOUT || d <= -(gint) s->config.slots) {
      if (now_us - s->newest_us > s->config.max_age_us || (s->probing && seq == s->probe_next)) {
        ext = restart (s, ssrc, seq, now_us);
      } else {
        s->probing = TRUE;
        s->probe_next = (guint16) (seq + 1);
        s->stats.too_old++;
        return;
      }
    } else {
      s->probing = FALSE;
      ext = d >= 0 ? s->newest + (guint64) d : s->newest - (guint64) -d;
      if (d > 0) {
        s->newest = ext;
        s->newest_us = now_us;
      }
    }
  }

  slot = &s->slots[seq & (s->config.slots - 1)];
  /* Keep the first copy: a duplicate is the same packet, and it may be in use. */
  if (slot->len != 0 && slot->ext == ext) {
    s->stats.duplicate++;
    return;
  }

  /* A packet never straddles the end of the ring: skip to its start instead. Skipping
   * advances head as if bytes were written, which keeps head - pos <= bytes a sufficient
   * test that a packet's bytes are intact. */
  cap = s->config.bytes;
  off = (gsize) (s->head & (cap - 1));
  if (off + len > cap) {
    s->head += cap - off;
    off = 0;
  }
  memcpy (s->ring + off, packet, len);
  slot->pos = s->head;
  slot->ext = ext;
  slot->stored_us = now_us;
  slot->len = (guint16) len;
  s->head += len;
  s->stats.stored++;
}

const guint8 *
sfu_packet_store_lookup (const SfuPacketStore *store, guint32 ssrc, guint16 seq, gint64 now_us,
                         gsize *len)
{
  const SfuPacketStore *s = store;
  const Slot *slot;
  guint64 ext;
  gint d;

  if (len)
    *len = 0;
  g_return_val_if_fail (s != NULL, NULL);

  if (!s->any || ssrc != s->ssrc)
    return NULL;
  d = sfu_seq_diff (seq, (guint16) s->newest);
  if (d > 0 || d <= -(gint) s->config.slots)
    return NULL;
  ext = s->newest - (guint64) -d;
  slot = &s->slots[seq & (s->config.slots - 1)];
  if (slot->len == 0 || slot->ext != ext)
    return NULL;
  if (now_us - slot->stored_us > s->config.max_age_us)
    return NULL;
  if (s->head - slot->pos > s->config.bytes)
    return NULL;
  if (len)
    *len = slot->len;
  return s->ring + (gsize) (slot->pos & (s->config.bytes - 1));
}

const SfuPacketStoreStats *
sfu_packet_store_get_stats (const SfuPacketStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);

  return &store->stats;
}

gsize
sfu_packet_store_size (const SfuPacketStore *store)
{
  g_return_val_if_fail (store != NULL, 0);

  return store->config.slots * sizeof (Slot) + store->config.bytes;
}
