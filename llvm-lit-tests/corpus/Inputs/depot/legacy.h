/* The legacy dispatcher, in C: packets with a tagged payload. */
#ifndef LEGACY_H
#define LEGACY_H

enum packet_kind { PK_PING, PK_DATA, PK_ACK, PK_NACK, PK_RESET, PK_CLOSE };

struct packet {
  int kind;
  int seq;
  union {
    int count;
    float ratio;
    char tag[8];
  };
  struct {
    short lo;
    short hi;
  };
};

struct link_stats {
  long sent;
  long received;
  long dropped;
};

const char *packet_kind_name(int kind);
int packet_priority(int kind);
int packet_apply(int op, int a, int b);

#endif
