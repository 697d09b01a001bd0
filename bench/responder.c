/* responder.c — the fastest DHCP "server" the bench can make, to measure perfdhcp's own ceiling.
 * It keeps no state and checks nothing: every relayed DISCOVER gets an OFFER and every REQUEST an ACK,
 * sent straight back to giaddr:67, with an address derived from chaddr. Not a server; a mirror.
 * Usage: responder SERVER_ADDR   (binds SERVER_ADDR:67; runs until killed) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define OPTIONS_AT 240

static size_t put_option(uint8_t *p, size_t at, uint8_t code, const void *value, uint8_t len) {
  p[at] = code;
  p[at + 1] = len;
  memcpy(p + at + 2, value, len);
  return at + 2 + len;
}

/* Finds option `code` in a request's options; returns its offset or 0. */
static size_t find_option(const uint8_t *p, size_t n, uint8_t code) {
  size_t at = OPTIONS_AT;
  while (at + 1 < n && p[at] != 255) {
    if (p[at] == 0) { at++; continue; }
    if (p[at] == code && at + 2 + p[at + 1] <= n) return at;
    at += 2 + (size_t)p[at + 1];
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: responder SERVER_ADDR\n"); return 2; }
  struct in_addr self;
  if (inet_pton(AF_INET, argv[1], &self) != 1) { fprintf(stderr, "bad address\n"); return 2; }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in bind_to = { .sin_family = AF_INET, .sin_port = htons(67), .sin_addr = self };
  if (fd < 0 || bind(fd, (struct sockaddr *)&bind_to, sizeof bind_to) != 0) { perror("bind"); return 1; }
  int big = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  fprintf(stderr, "responder listening on %s:67\n", argv[1]);
  uint8_t in[1500], out[600];
  for (;;) {
    ssize_t n = recv(fd, in, sizeof in, 0);
    if (n < OPTIONS_AT + 3 || in[0] != 1) continue;
    size_t type_at = find_option(in, (size_t)n, 53);
    if (!type_at) continue;
    uint8_t type = in[type_at + 2], reply_type;
    if (type == 1) reply_type = 2; else if (type == 3) reply_type = 5; else continue;
    uint32_t yiaddr;
    size_t req_at = find_option(in, (size_t)n, 50);
    if (type == 3 && req_at && in[req_at + 1] == 4) memcpy(&yiaddr, in + req_at + 2, 4);
    else yiaddr = htonl(0x0a500000u | (((uint32_t)in[32] << 8 | in[33]) % 65000 + 10));
    memset(out, 0, sizeof out);
    memcpy(out, in, OPTIONS_AT);          /* op htype hlen hops xid secs flags ciaddr … chaddr, cookie */
    out[0] = 2;
    memcpy(out + 16, &yiaddr, 4);
    memset(out + 44, 0, 192);             /* sname, file */
    size_t at = OPTIONS_AT;
    uint32_t lease = htonl(3600), mask = htonl(0xffff0000u);
    at = put_option(out, at, 53, &reply_type, 1);
    at = put_option(out, at, 54, &self, 4);
    at = put_option(out, at, 51, &lease, 4);
    at = put_option(out, at, 1, &mask, 4);
    out[at++] = 255;
    if (at < 300) at = 300;
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(67) };
    memcpy(&to.sin_addr, in + 24, 4);     /* giaddr: perfdhcp acts as a relay */
    sendto(fd, out, at, 0, (struct sockaddr *)&to, sizeof to);
  }
}
