/* The legacy dispatcher: packets in a ring, per-kind names and priorities,
 * an operation table of function pointers and sequence numbers kept in
 * function-local statics. */
#include "legacy.h"

#include <stdio.h>
#include <string.h>

#include "depot_c.h"

#define RING_SIZE 8

struct packet g_ring[RING_SIZE];
int g_ring_head;
struct link_stats g_link;

static const char *const k_status_text[] = {"idle", "busy", "stalled", "closed"};

const char *packet_kind_name(int kind) {
  switch (kind) {
  case PK_PING:
    return "ping";
  case PK_DATA:
    return "data";
  case PK_ACK:
    return "ack";
  case PK_NACK:
    return "nack";
  case PK_RESET:
    return "reset";
  case PK_CLOSE:
    return "close";
  }
  return "?";
}

int packet_priority(int kind) {
  switch (kind) {
  case PK_PING:
    return 1;
  case PK_DATA:
    return 5;
  case PK_ACK:
    return 3;
  case PK_NACK:
    return 4;
  case PK_RESET:
    return 9;
  case PK_CLOSE:
    return 7;
  default:
    return 0;
  }
}

static int op_add(int a, int b) { return a + b; }
static int op_sub(int a, int b) { return a - b; }
static int op_mul(int a, int b) { return a * b; }
static int op_max(int a, int b) { return a > b ? a : b; }

static int (*const k_ops[])(int, int) = {op_add, op_sub, op_mul, op_max};

int packet_apply(int op, int a, int b) { return k_ops[op & 3](a, b); }

static int next_seq(void) {
  static int seq = 1000;
  return seq++;
}

static int checksum(const char *s) {
  int sum = 0;
  for (; *s; ++s)
    sum = (sum * 31 + (unsigned char)*s) & 0xffff;
  return sum;
}

static void send_packet(int kind, int count) {
  struct packet *p = &g_ring[g_ring_head];
  g_ring_head = (g_ring_head + 1) % RING_SIZE;
  memset(p, 0, sizeof *p);
  p->kind = kind;
  p->seq = next_seq();
  p->count = count;
  p->lo = (short)(count & 0xff);
  p->hi = (short)(count >> 8);
  g_link.sent++;
}

static int busiest_kind(void) {
  int best = 0, best_count = -1;
  for (int k = PK_PING; k <= PK_CLOSE; ++k) {
    int n = 0;
    for (int i = 0; i < RING_SIZE; ++i)
      if (g_ring[i].seq && g_ring[i].kind == k)
        ++n;
    if (n > best_count) {
      best = k;
      best_count = n;
    }
  }
  return best;
}

static const char *status_of(long sent) {
  if (sent == 0)
    return k_status_text[0];
  if (sent % 2)
    return k_status_text[1];
  return k_status_text[1];
}

void legacy_report(void) {
  char buf[160];
  long steps = depot_steps();
  send_packet(PK_DATA, 300);
  send_packet(PK_ACK, 1);
  snprintf(buf, sizeof buf, "%s %s %s %s %s %s", packet_kind_name(0), packet_kind_name(1), packet_kind_name(2),
           packet_kind_name(3), packet_kind_name(4), packet_kind_name(5));
  c_probe("legacy.kinds", buf);
  snprintf(buf, sizeof buf, "%d %d %d", packet_priority(PK_DATA), packet_priority(PK_RESET), packet_priority(42));
  c_probe("legacy.priority", buf);
  snprintf(buf, sizeof buf, "%d %d %d %d", packet_apply(0, 7, 5), packet_apply(1, 7, 5), packet_apply(2, 7, 5),
           packet_apply(3, 7, 5));
  c_probe("legacy.ops", buf);
  {
    struct packet *last = &g_ring[(g_ring_head + RING_SIZE - 2) % RING_SIZE];
    snprintf(buf, sizeof buf, "seq+%ld count=%d lo=%d hi=%d", last->seq - 1000 - 2 * (steps - 1), last->count,
             last->lo, last->hi);
  }
  c_probe("legacy.packet", buf);
  snprintf(buf, sizeof buf, "%s", g_link.sent == 2 * steps ? "in-sync" : "out of sync");
  c_probe("legacy.sent", buf);
  snprintf(buf, sizeof buf, "%d", checksum("depot legacy"));
  c_probe("legacy.checksum", buf);
  snprintf(buf, sizeof buf, "%s %s", packet_kind_name(busiest_kind()), status_of(g_link.sent));
  c_probe("legacy.busiest", buf);
}
