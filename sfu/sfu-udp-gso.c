/* SPDX-License-Identifier: MIT */
/* Planning UDP GSO sends; see sfu-udp-gso.h. */
#include "sfu-udp-gso.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define NONE G_MAXUINT

static gboolean
same_address (const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
  if (a->ss_family != b->ss_family)
    return FALSE;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const void *) a, *y = (const void *) b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->ss_family == AF_INET6) {
    const struct sockaddr_in6 *x = (const void *) a, *y = (const void *) b;
    return x->sin6_port == y->sin6_port &&
           memcmp (&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return FALSE;
}

static guint
hash_address (const struct sockaddr_storage *a)
{
  const guint8 *p;
  gsize n;
  guint h = 2166136261u; /* FNV-1a */

  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *s = (const void *) a;
    p = (const guint8 *) &s->sin_addr;
    n = sizeof s->sin_addr;
    h = (h ^ s->sin_port) * 16777619u;
  } else {
    const struct sockaddr_in6 *s = (const void *) a;
    p = (const guint8 *) &s->sin6_addr;
    n = sizeof s->sin6_addr;
    h = (h ^ s->sin6_port) * 16777619u;
  }
  for (gsize i = 0; i < n; i++)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

/* Links each datagram to the next one to the same address (plan->next) and marks the
 * first datagram of each address in @is_head (its group's last datagram there; NONE for
 * the others). */
static void
group_by_address (SfuUdpGsoPlan *plan, const struct sockaddr_storage *to, guint n,
                  guint *is_head)
{
  guint slots = 2 * n, *table = plan->table;
  guint *tail = is_head; /* reused: tail of the group whose head is i */

  for (guint i = 0; i < slots; i++)
    table[i] = NONE;
  for (guint i = 0; i < n; i++) {
    guint s = hash_address (&to[i]) % slots;

    plan->next[i] = NONE;
    tail[i] = NONE;
    while (table[s] != NONE && !same_address (&to[table[s]], &to[i]))
      s = (s + 1) % slots;
    if (table[s] == NONE) {
      table[s] = i; /* head of a new group */
      tail[i] = i;
    } else {
      guint head = table[s];
      plan->next[tail[head]] = i;
      tail[head] = i;
    }
  }
}

static void
emit (SfuUdpGsoPlan *plan, guint *n_out, guint *n_iov, const struct sockaddr_storage *to,
      const socklen_t *to_len, const struct iovec *iov, guint first, guint count,
      gsize segment)
{
  struct mmsghdr *m = &plan->out[*n_out];
  struct msghdr *h = &m->msg_hdr;
  guint i = first;

  memset (m, 0, sizeof *m);
  h->msg_name = (void *) &to[first];
  h->msg_namelen = to_len[first];
  h->msg_iov = &plan->iov[*n_iov];
  h->msg_iovlen = count;
  for (guint k = 0; k < count; k++) {
    plan->iov[(*n_iov)++] = iov[i];
    i = plan->next[i];
  }
  if (count > 1) {
    struct cmsghdr *c;

    h->msg_control = plan->cmsg[*n_out];
    h->msg_controllen = SFU_UDP_GSO_CMSG_SPACE;
    memset (h->msg_control, 0, SFU_UDP_GSO_CMSG_SPACE);
    c = CMSG_FIRSTHDR (h);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN (sizeof (guint16));
    *(guint16 *) CMSG_DATA (c) = (guint16) segment;
  }
  plan->segments[*n_out] = count;
  (*n_out)++;
}

guint
sfu_udp_gso_plan (SfuUdpGsoPlan *plan, const struct sockaddr_storage *to,
                  const socklen_t *to_len, const struct iovec *iov, guint n, gboolean enabled)
{
  guint n_out = 0, n_iov = 0;
  /* Per datagram: the last datagram of its group when it is a group's first, else NONE. */
  guint *tails = g_newa (guint, n > 0 ? n : 1);

  g_return_val_if_fail (plan != NULL && n <= plan->n_in, 0);

  group_by_address (plan, to, n, tails);
  for (guint head = 0; head < n; head++) {
    guint i;

    if (tails[head] == NONE)
      continue; /* not the first datagram to its address */
    i = head;
    while (i != NONE) {
      gsize size = iov[i].iov_len, total = size;
      guint count = 1, j = plan->next[i];

      /* Same-size datagrams, then at most one shorter one to close the entry. */
      if (enabled && size <= SFU_UDP_GSO_MAX_SEGMENT) {
        while (j != NONE && count < SFU_UDP_GSO_MAX_SEGMENTS &&
               total + iov[j].iov_len <= SFU_UDP_GSO_MAX_BYTES && iov[j].iov_len <= size) {
          gboolean shorter = iov[j].iov_len < size;

          total += iov[j].iov_len;
          count++;
          j = plan->next[j];
          if (shorter)
            break;
        }
      }
      emit (plan, &n_out, &n_iov, to, to_len, iov, i, count, size);
      i = j;
    }
  }
  return n_out;
}
