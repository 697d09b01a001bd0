/*
 * dhcp-hostile — sends random, truncated and mutated BOOTP/DHCP packets at a server, bounded in count
 * and time, for joind's hostile-packet test (issue 6, item 3). Only ever sends on the interface or to
 * the address it is given: run it inside a test namespace.
 *
 *   dhcp-hostile raw IFACE COUNT SEED PPS     Ethernet frames to ff:ff:ff:ff:ff:ff (IPv4/UDP 68→67),
 *                                             with frame-level damage now and then
 *   dhcp-hostile udp SERVER_IP COUNT SEED PPS UDP datagrams from port 67 (as a relay) to SERVER_IP:67
 *   dhcp-hostile flood IFACE COUNT SEED PPS   well-formed broadcast DISCOVERs, each from a new random MAC
 *
 * PPS 0 = as fast as the socket takes them. Stops after COUNT packets or 300 s, whichever comes first.
 * Prints one line per kind: "kind NAME COUNT", then "sent N seconds S".
 * The same SEED gives the same packets (xorshift PRNG), so a failure can be replayed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SECONDS 300
#define BOOTP_HEADER 236
#define OPTIONS_AT 240
#define SNAME_AT 44
#define FILE_AT 108
#define FRAME_HEADERS 42

static uint64_t rng_state;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 11);
}
static uint32_t below(uint32_t n) { return n == 0 ? 0 : rnd() % n; }
static void fill_random(uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rnd();
}

/* A well-formed DISCOVER or REQUEST with a random client MAC (locally administered): the base that most
 * kinds damage, so that the damage is what the server meets, not an early "too short". Returns its size. */
static size_t sane_request(uint8_t *p, int giaddr_relay, uint32_t relay_ip) {
  memset(p, 0, 548);
  p[0] = 1; p[1] = 1; p[2] = 6;
  fill_random(p + 4, 4); /* xid */
  if (giaddr_relay) { memcpy(p + 24, &relay_ip, 4); p[3] = 1; }
  fill_random(p + 28, 6);
  p[28] = (uint8_t)((p[28] & 0xfc) | 0x02);
  p[236] = 99; p[237] = 130; p[238] = 83; p[239] = 99;
  size_t o = OPTIONS_AT;
  p[o++] = 53; p[o++] = 1; p[o++] = below(4) == 0 ? 3 : 1;
  p[o++] = 61; p[o++] = 7; p[o++] = 1; memcpy(p + o, p + 28, 6); o += 6;
  p[o++] = 55; p[o++] = 4; p[o++] = 1; p[o++] = 3; p[o++] = 6; p[o++] = 15;
  p[o++] = 255;
  return o < 300 ? 300 : o;
}

enum kind {
  K_RANDOM, K_TRUNCATED, K_MUTATED, K_OVERLOAD, K_GIANT_HLEN, K_ZERO_LENGTH, K_BOGUS_RELAY, K_BAD_LENGTH,
  K_REPEATS, K_NO_END, K_BAD_OP, K_SANE, K_COUNT
};
static const char *kind_names[K_COUNT] = {
  "random", "truncated", "mutated", "overload-abuse", "giant-hlen", "zero-length-options",
  "bogus-relay-option", "bad-option-length", "option-repeats", "no-end", "bad-op", "sane",
};

/* Builds one hostile DHCP payload of kind k into p (room for 1500 bytes). Returns its size. */
static size_t hostile(uint8_t *p, enum kind k, uint32_t relay_ip) {
  size_t n = sane_request(p, below(2), relay_ip), o;
  switch (k) {
  case K_RANDOM:
    n = below(1473);
    fill_random(p, n);
    if (below(2)) p[0] = 1; /* past the op check now and then */
    break;
  case K_TRUNCATED:
    n = below(n);
    break;
  case K_MUTATED:
    for (uint32_t i = 1 + below(8); i > 0; i--) p[below((uint32_t)n)] ^= (uint8_t)(1u << below(8));
    break;
  case K_OVERLOAD:
    /* Option 52 pointing at file/sname that themselves hold 52 (a loop), run past their end, repeat 52,
     * or give it a bad value or length. */
    o = OPTIONS_AT;
    p[o++] = 53; p[o++] = 1; p[o++] = 1;
    switch (below(5)) {
    case 0: p[o++] = 52; p[o++] = 1; p[o++] = 3; p[FILE_AT] = 52; p[FILE_AT + 1] = 1; p[FILE_AT + 2] = 3; break;
    case 1: p[o++] = 52; p[o++] = 1; p[o++] = 2; p[SNAME_AT] = 12; p[SNAME_AT + 1] = 200; break;
    case 2: p[o++] = 52; p[o++] = 1; p[o++] = 1; p[o++] = 52; p[o++] = 1; p[o++] = 1; break;
    case 3: p[o++] = 52; p[o++] = 1; p[o++] = (uint8_t)(4 + below(252)); break;
    default: p[o++] = 52; p[o++] = (uint8_t)(2 + below(10)); o += 12; break;
    }
    p[o++] = 255;
    n = o > 300 ? o : 300;
    break;
  case K_GIANT_HLEN:
    p[2] = (uint8_t)(17 + below(239));
    break;
  case K_ZERO_LENGTH: {
    static const uint8_t codes[] = {53, 50, 54, 61, 55, 57, 82, 12, 81, 118, 51};
    o = OPTIONS_AT;
    for (uint32_t i = 1 + below(40); i > 0 && o + 2 < 1400; i--) {
      p[o++] = codes[below(sizeof codes)];
      p[o++] = 0;
    }
    if (below(2)) p[o++] = 255;
    n = o;
    break;
  }
  case K_BOGUS_RELAY:
    o = OPTIONS_AT + 3; /* after 53 */
    p[o++] = 82;
    {
      uint8_t len = (uint8_t)below(40);
      p[o++] = len;
      for (uint8_t i = 0; i < len; i++) p[o + i] = (uint8_t)(below(3) == 0 ? below(4) : rnd());
      o += len;
    }
    p[o++] = 255;
    if (below(2)) memcpy(p + 24, &relay_ip, 4); else fill_random(p + 24, 4);
    p[3] = (uint8_t)rnd();
    n = o > 300 ? o : 300;
    break;
  case K_BAD_LENGTH:
    /* One option whose length runs past the end of the packet, or a fixed-size option with a wrong size. */
    o = OPTIONS_AT + 3;
    p[o++] = below(2) ? (uint8_t)(1 + below(254)) : (uint8_t)(below(2) ? 50 : 57);
    p[o++] = (uint8_t)rnd();
    n = o + below(8);
    break;
  case K_REPEATS:
    /* Thousands of one-byte parts of the same option (RFC 3396 joining), within one 1472-byte datagram. */
    o = OPTIONS_AT + 3;
    {
      uint8_t code = (uint8_t)(below(2) ? 82 : 1 + below(250));
      while (o + 3 < 1470) { p[o++] = code; p[o++] = 1; p[o++] = (uint8_t)rnd(); }
    }
    if (below(2)) p[o++] = 255;
    n = o;
    break;
  case K_NO_END:
    n = OPTIONS_AT + 3 + below(4);
    break;
  case K_BAD_OP:
    p[0] = (uint8_t)(below(2) ? 2 : 3 + below(253));
    break;
  case K_SANE:
  case K_COUNT:
    break;
  }
  return n;
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += (uint32_t)(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/* Wraps the payload in Ethernet/IPv4/UDP; now and then damages the frame itself. Returns the frame size. */
static size_t frame(uint8_t *f, const uint8_t *payload, size_t n, int *damaged, int may_damage) {
  memset(f, 0xff, 6);
  fill_random(f + 6, 6);
  f[6] = (uint8_t)((f[6] & 0xfc) | 0x02);
  f[12] = 0x08; f[13] = 0x00;
  uint8_t *ip = f + 14, *udp = f + 34;
  memset(ip, 0, 20);
  ip[0] = 0x45; ip[8] = 64; ip[9] = 17;
  uint16_t total = (uint16_t)(28 + n);
  ip[2] = (uint8_t)(total >> 8); ip[3] = (uint8_t)total;
  ip[4] = (uint8_t)rnd(); ip[5] = (uint8_t)rnd();
  memset(ip + 16, 0xff, 4);
  udp[0] = 0; udp[1] = 68; udp[2] = 0; udp[3] = 67;
  udp[4] = (uint8_t)((8 + n) >> 8); udp[5] = (uint8_t)(8 + n);
  udp[6] = 0; udp[7] = 0; /* no UDP checksum: allowed in IPv4 */
  memcpy(udp + 8, payload, n);
  *damaged = 0;
  if (may_damage && below(8) == 0) {
    *damaged = 1;
    switch (below(6)) {
    case 0: ip[2] = (uint8_t)rnd(); ip[3] = (uint8_t)rnd(); break;    /* IP total length */
    case 1: udp[4] = (uint8_t)rnd(); udp[5] = (uint8_t)rnd(); break;  /* UDP length */
    case 2: ip[6] = 0x20; break;                                      /* more fragments */
    case 3: ip[0] = (uint8_t)(0x40 | below(5)); break;                /* IHL below 5 */
    case 4: udp[6] = (uint8_t)rnd(); udp[7] = (uint8_t)(rnd() | 1); break; /* wrong UDP checksum */
    default: ip[0] = (uint8_t)((rnd() & 0xf0) | 5); break;              /* IP version */
    }
  }
  uint16_t c = csum(ip, 20, 0);
  if (*damaged && below(6) == 0) c ^= 0x5a5a; /* IP header checksum */
  ip[10] = (uint8_t)(c >> 8); ip[11] = (uint8_t)c;
  size_t size = 42 + n;
  return size < 60 ? 60 : size;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 6 || (strcmp(argv[1], "raw") != 0 && strcmp(argv[1], "udp") != 0 && strcmp(argv[1], "flood") != 0)) {
    fprintf(stderr, "usage: dhcp-hostile raw IFACE|flood IFACE|udp SERVER_IP COUNT SEED PPS\n");
    return 2;
  }
  int flood = strcmp(argv[1], "flood") == 0;
  int raw = flood || strcmp(argv[1], "raw") == 0;
  unsigned long count = strtoul(argv[3], NULL, 10);
  rng_state = strtoull(argv[4], NULL, 10) * 2654435761u + 88172645463325252ull;
  double pps = strtod(argv[5], NULL);
  int fd;
  struct sockaddr_ll ll = {0};
  struct sockaddr_in to = {0};
  uint32_t relay_ip = 0;
  if (raw) {
    fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) { perror("socket(AF_PACKET)"); return 1; }
    ll.sll_family = AF_PACKET;
    ll.sll_ifindex = (int)if_nametoindex(argv[2]);
    ll.sll_halen = 6;
    memset(ll.sll_addr, 0xff, 6);
    if (ll.sll_ifindex == 0) { fprintf(stderr, "no interface %s\n", argv[2]); return 1; }
  } else {
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) { perror("socket(AF_INET)"); return 1; }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(67)};
    /* From port 67 as a relay does; from any port if a relay on this host holds 67. */
    if (bind(fd, (struct sockaddr *)&from, sizeof from) < 0 && errno != EADDRINUSE) { perror("bind :67"); return 1; }
    to.sin_family = AF_INET;
    to.sin_port = htons(67);
    if (inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) { fprintf(stderr, "bad address %s\n", argv[2]); return 1; }
    /* giaddr: our own address towards the server, as a relay would put it */
    struct sockaddr_in self;
    socklen_t len = sizeof self;
    int probe = socket(AF_INET, SOCK_DGRAM, 0);
    if (connect(probe, (struct sockaddr *)&to, sizeof to) == 0 && getsockname(probe, (struct sockaddr *)&self, &len) == 0)
      relay_ip = self.sin_addr.s_addr;
    close(probe);
  }
  static uint8_t payload[1600], buf[1700];
  unsigned long per_kind[K_COUNT] = {0}, damaged_frames = 0, sent = 0, send_errors = 0;
  double start = now_s();
  for (unsigned long i = 0; i < count; i++) {
    if ((i & 255) == 0) {
      double elapsed = now_s() - start;
      if (elapsed > MAX_SECONDS) break;
      if (pps > 0) {
        double ahead = (double)i / pps - elapsed;
        if (ahead > 0) usleep((useconds_t)(ahead * 1e6));
      }
    }
    /* One in 64 is a sane request: the server must keep serving through the noise. */
    enum kind k = flood || below(64) == 0 ? K_SANE : (enum kind)below(K_SANE);
    size_t n = hostile(payload, k, relay_ip);
    if (flood) {
      payload[24] = payload[25] = payload[26] = payload[27] = 0; /* no giaddr */
      payload[3] = 0;
      payload[OPTIONS_AT + 2] = 1; /* DISCOVER */
    }
    per_kind[k]++;
    ssize_t r;
    if (raw) {
      int damaged;
      size_t size = frame(buf, payload, n, &damaged, !flood);
      damaged_frames += (unsigned long)damaged;
      r = sendto(fd, buf, size, 0, (struct sockaddr *)&ll, sizeof ll);
    } else {
      r = sendto(fd, payload, n, 0, (struct sockaddr *)&to, sizeof to);
    }
    if (r < 0) {
      send_errors++;
      if (errno == ENOBUFS || errno == EAGAIN) usleep(200);
    } else {
      sent++;
    }
  }
  for (int k = 0; k < K_COUNT; k++) printf("kind %s %lu\n", kind_names[k], per_kind[k]);
  if (raw) printf("kind damaged-frame %lu\n", damaged_frames);
  printf("sent %lu errors %lu seconds %.1f\n", sent, send_errors, now_s() - start);
  return 0;
}
