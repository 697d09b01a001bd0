/*
 * joind_net: the few socket operations joind needs and Node's own modules cannot do.
 *
 *  - A raw ICMP socket (AF_INET, SOCK_RAW, IPPROTO_ICMP) for the ping check before an OFFER: dgram has no
 *    raw sockets.
 *  - A Linux packet socket (AF_PACKET, SOCK_RAW) per served interface, the same way ISC dhcpd (LPF) and
 *    Kea (PktFilterLPF) work: a dgram socket bound to 0.0.0.0:67 cannot tell on which interface a broadcast
 *    arrived, and cannot send to a client that has no address yet except by broadcast.
 *  - The few calls --user needs that Node lacks: user and group lookups without becoming the user, and a
 *    change of user that keeps chosen capabilities (prctl, capset). See src/io/privileges.ts. They run
 *    once, at start, before any packet is served (an NSS lookup may block on a directory server).
 *
 * The addon stays deliberately generic and small: it opens the socket, filters in the kernel, watches the
 * descriptor with the Node event loop (uv_poll_t, never a thread, never a blocking call), hands each
 * datagram to one JS callback and sends whole datagrams. All protocol work (ICMP echo layout, Ethernet/IP/
 * UDP framing) is done in TypeScript (src/io/).
 *
 * JS surface (see src/io/native.ts for the typed view):
 *   new Socket(kind, ifindex, udpPort, rcvbufBytes, onMessage)
 *       kind 0 = ICMP raw socket (ifindex, udpPort ignored); onMessage(buffer, sourceIpv4, 0, 0)
 *       kind 1 = packet socket on ifindex, kernel filter for IPv4/UDP to udpPort, no fragments, no
 *                outgoing copies, no frames to our MAC unless to 255.255.255.255 (unicast is the UDP
 *                sockets' job); onMessage(buffer, arrivalIfindex, packetType, flags)
 *                flags bit 0: the frame's transport checksum is partial (sender on this host offloaded it)
 *       throws an Error with .code ('EPERM', 'ENODEV', ...) and .errno when the socket cannot be opened.
 *   socket.sendTo(bytes, ipv4)   ICMP: send an ICMP message to ipv4 (uint32, host order) -> 0 or errno
 *   socket.sendFrame(frame)      packet: send a whole Ethernet frame out of the socket's interface -> 0 or errno
 *   socket.stats()               { kernelPackets, kernelDrops, recvErrors, truncated } (cumulative)
 *   socket.close()               stops watching and closes the descriptor; idempotent
 *   ifNameToIndex(name)          -> ifindex, 0 when there is no such interface
 *   ifHardwareAddress(name)      -> 6-byte Buffer (Ethernet interfaces), or null
 *   lookupUser(name)             -> { name, uid, gid } from the user database (NSS), or null
 *   lookupGroup(name)            -> gid from the group database, or null
 *   userGroups(name, gid)        -> the user's group ids (getgrouplist: gid first, then memberships)
 *   dropPrivileges(uid, gid, groups, keep)
 *                                root only: become uid/gid with these supplementary groups, keeping the
 *                                capabilities numbered in `keep` (permitted = effective = bounding = keep);
 *                                throws an Error with .code/.errno naming the step that failed.
 *
 * Failed sends are values, not exceptions: on a busy server ENOBUFS (full neighbour table), EAGAIN and
 * EHOSTUNREACH are ordinary events that the caller counts and survives.
 */

#define NAPI_VERSION 8
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setresuid, getresuid and friends */
#endif
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

/* Datagrams read per readiness event. Bounded so that a flood on one socket cannot starve timers and
 * other sockets: the poll is level-triggered, so what is left is read on the next loop iteration. */
#define JN_BATCH 64

/* Receive scratch size: the largest IPv4 datagram plus an Ethernet header. Oversized input is reported
 * through MSG_TRUNC and dropped (counted), never delivered cut short. */
#define JN_SCRATCH (65535 + 14)

enum { JN_KIND_ICMP = 0, JN_KIND_PACKET = 1, JN_KIND_UDP = 2 };

/* Bits of the fourth onMessage argument. */
#define JN_FLAG_CSUM_NOT_READY 1u /* packet sockets: the UDP/TCP checksum is partial (local offload) */

typedef struct {
  napi_env env;
  int kind;
  int ifindex;
  int fd; /* -1 once closed */

  uv_poll_t poll;
  int poll_inited;   /* uv_poll_init succeeded: the handle must go through uv_close */
  int handle_closed; /* uv_close callback has run (or the handle was never initialised) */
  int wrapper_gone;  /* the JS object was finalised (or never wrapped) */
  int dispatching;   /* inside on_readable: JS references must outlive the callback scope */
  int js_released;   /* references and async context already released */
  int cleanup_hook;  /* env cleanup hook registered */

  napi_ref self;       /* strong while open: an open socket keeps its JS object (and callback) alive */
  napi_ref on_message; /* the JS callback */
  napi_async_context async_ctx;

  double kernel_packets, kernel_drops, recv_errors, truncated;
  unsigned char *scratch;
} jn_socket;

/* ---------------------------------------------------------------------------------------------------- */
/* Error helpers                                                                                         */

/* Throws unless an exception is already pending (the first error is the informative one). */
static void throw_plain(napi_env env, const char *message) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  napi_throw_error(env, NULL, message);
}

static void throw_type(napi_env env, const char *message) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  napi_throw_type_error(env, NULL, message);
}

/* Throws an Error whose .code is the errno name (as Node's own errors do) and whose .errno is the number. */
static void throw_errno(napi_env env, int err, const char *what) {
  char name[32], message[256];
  napi_value code_value, message_value, error, errno_value;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  uv_err_name_r(-err, name, sizeof name);
  snprintf(message, sizeof message, "%s: %s (%s)", what, strerror(err), name);
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code_value) != napi_ok ||
      napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value) != napi_ok ||
      napi_create_error(env, code_value, message_value, &error) != napi_ok) {
    napi_throw_error(env, name, message);
    return;
  }
  if (napi_create_int32(env, err, &errno_value) == napi_ok)
    napi_set_named_property(env, error, "errno", errno_value);
  napi_throw(env, error);
}

/* Checks one N-API call in a function that returns napi_value: on failure throw and return NULL. */
#define NAPI_CHECK(env, call)                                   \
  do {                                                          \
    if ((call) != napi_ok) {                                    \
      throw_plain((env), "joind_net: N-API call failed: " #call); \
      return NULL;                                              \
    }                                                           \
  } while (0)

/* ---------------------------------------------------------------------------------------------------- */
/* Opening sockets                                                                                       */

static int set_rcvbuf(int fd, int bytes) {
  if (bytes <= 0) return 0;
  /* SO_RCVBUFFORCE passes net.core.rmem_max when we have CAP_NET_ADMIN; otherwise fall back to the
   * capped SO_RCVBUF. Either way the buffer is a tuning knob, so failure is not fatal. */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0) return 0;
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  return 0;
}

/* Returns a descriptor or -errno. */
static int open_icmp(int rcvbuf) {
  struct icmp_filter filter;
  int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) return -errno;
  /* A raw ICMP socket sees every ICMP message the host receives. Let the kernel pass only echo replies,
   * so a host being pinged or sending unreachables does not wake us up. (The bit set = blocked.) */
  filter.data = ~(1U << ICMP_ECHOREPLY);
  if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  set_rcvbuf(fd, rcvbuf);
  return fd;
}

/* Returns a descriptor or -errno. */
static int open_packet(int ifindex, int udp_port, int rcvbuf) {
  /* Classic BPF over the Ethernet frame: keep IPv4/UDP to udp_port, not a fragment (the UDP header is
   * only in the first fragment and DHCP never needs reassembly), and not our own outgoing frames (a packet
   * socket also sees what the host sends on the interface). A frame to our own MAC (PACKET_HOST) is kept
   * only when it is addressed to 255.255.255.255: any other is a unicast the kernel's UDP stack delivers
   * to our per-address sockets (relays, perfdhcp, renewing clients), and copying it here too would cost a
   * wake-up and a copy into JavaScript for each, only to be dropped there. Jumps count from the next
   * instruction; 15 is the drop at the end. */
  struct sock_filter code[] = {
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 13, 0),
      /* 2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_HOST, 0, 2),
      /* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 14 + 16),          /* IP destination */
      /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 0, 10),
      /* 5 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),               /* EtherType */
      /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 8),
      /* 7 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 9),           /* IP protocol */
      /* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6),
      /* 9 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 14 + 6),           /* flags + fragment offset */
      /* 10 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 4, 0),  /* MF or offset: a fragment */
      /* 11 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14),             /* X = IP header length */
      /* 12 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 14 + 2),          /* UDP destination port */
      /* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)udp_port, 0, 1),
      /* 14 */ BPF_STMT(BPF_RET | BPF_K, 0x40000),                  /* accept the whole frame */
      /* 15 */ BPF_STMT(BPF_RET | BPF_K, 0),                        /* drop */
  };
  struct sock_fprog program = {(unsigned short)(sizeof code / sizeof code[0]), code};
  struct sockaddr_ll local;
  int err;

  /* Protocol 0 at socket(): the socket receives nothing until bind() names a protocol, so no frame from
   * another interface, or one that the filter would have refused, slips in before the filter is set. */
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) < 0) goto fail;
  /* Ask for per-frame status: a frame from a local sender with checksum offload (veth, virtio, a bridge
   * on this host) carries only a partial UDP checksum, and the status tells us so (TP_STATUS_CSUMNOTREADY).
   * Without it a strict checksum check would drop good frames; ISC dhcpd learnt this the hard way. */
  {
    int one = 1;
    (void)setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one);
  }
  set_rcvbuf(fd, rcvbuf);
  memset(&local, 0, sizeof local);
  local.sll_family = AF_PACKET;
  local.sll_protocol = htons(ETH_P_IP);
  local.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) goto fail;
  return fd;
fail:
  err = errno;
  close(fd);
  return -err;
}

/* A UDP socket bound to address:port (host byte order; 0.0.0.0 and port 0 allowed), for the server's
 * unicast and relayed traffic. Node's dgram does the same, but per datagram it formats the sender's
 * address as text (and we parsed it back), emits an event, and runs each send through a lookup and a
 * send request object: most of the JavaScript cost of a relayed exchange. SO_REUSEADDR lets a socket on
 * a host address share the port with the one on 0.0.0.0, as dgram's reuseAddr did. */
static int open_udp(uint32_t address, int port, int rcvbuf) {
  struct sockaddr_in local;
  int one = 1, err;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) return -errno;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0)
    goto fail;
  set_rcvbuf(fd, rcvbuf);
  memset(&local, 0, sizeof local);
  local.sin_family = AF_INET;
  local.sin_port = htons((uint16_t)port);
  local.sin_addr.s_addr = htonl(address);
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) goto fail;
  return fd;
fail:
  err = errno;
  close(fd);
  return -err;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Life cycle: the struct is freed once both the uv handle is closed and the JS object is finalised,
 * whichever comes last.                                                                                 */

static void maybe_free(jn_socket *s) {
  if (!s->handle_closed || !s->wrapper_gone) return;
  free(s->scratch);
  free(s);
}

static void on_handle_closed(uv_handle_t *handle) {
  jn_socket *s = (jn_socket *)handle->data;
  s->handle_closed = 1;
  maybe_free(s);
}

/* Drops the references to JS values. Deferred while a dispatch is running, because the callback scope
 * opened there uses the async context and the object. */
static void release_js(jn_socket *s) {
  if (s->js_released) return;
  s->js_released = 1;
  if (s->on_message != NULL) napi_delete_reference(s->env, s->on_message);
  if (s->self != NULL) napi_delete_reference(s->env, s->self);
  if (s->async_ctx != NULL) napi_async_destroy(s->env, s->async_ctx);
  s->on_message = NULL;
  s->self = NULL;
  s->async_ctx = NULL;
}

static void cleanup_hook(void *arg);

/* Stops watching and closes the descriptor. Safe to call any number of times. */
static void close_socket(jn_socket *s) {
  if (s->fd < 0) return;
  if (s->poll_inited) uv_poll_stop(&s->poll);
  close(s->fd);
  s->fd = -1;
  if (s->cleanup_hook) {
    s->cleanup_hook = 0;
    napi_remove_env_cleanup_hook(s->env, cleanup_hook, s);
  }
  if (!s->dispatching) release_js(s);
  if (s->poll_inited) {
    uv_close((uv_handle_t *)&s->poll, on_handle_closed);
  } else {
    s->handle_closed = 1;
  }
}

/* The environment is going away (process exit, worker end) with the socket still open. */
static void cleanup_hook(void *arg) {
  jn_socket *s = (jn_socket *)arg;
  s->cleanup_hook = 0; /* Node removed it before calling us */
  close_socket(s);
}

static void finalize_socket(napi_env env, void *data, void *hint) {
  jn_socket *s = (jn_socket *)data;
  (void)env;
  (void)hint;
  /* Normally already closed (an open socket holds a strong reference to its object); at environment
   * teardown it may not be. */
  close_socket(s);
  s->wrapper_gone = 1;
  maybe_free(s);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Receiving                                                                                             */

/* Delivers one datagram. Returns 0 to go on, -1 to stop this batch. */
static int deliver(jn_socket *s, napi_value callback, napi_value receiver, size_t length, uint32_t a,
                   uint32_t b, uint32_t flags) {
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_value argv[4];
  napi_status status;
  int result = 0;

  if (napi_open_handle_scope(env, &scope) != napi_ok) return -1;
  /* One copy out of the scratch buffer: the JS side may keep slices of the datagram, so it must own it. */
  if (napi_create_buffer_copy(env, length, s->scratch, NULL, &argv[0]) != napi_ok ||
      napi_create_uint32(env, a, &argv[1]) != napi_ok || napi_create_uint32(env, b, &argv[2]) != napi_ok ||
      napi_create_uint32(env, flags, &argv[3]) != napi_ok) {
    result = -1;
  } else {
    status = napi_call_function(env, receiver, callback, 4, argv, NULL);
    if (status == napi_pending_exception) {
      /* An exception thrown by the JS handler is a bug there: report it like any uncaught exception
       * (process 'uncaughtException', by default a crash), exactly as an EventEmitter listener would. */
      napi_value error;
      if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
      result = -1;
    } else if (status != napi_ok) {
      result = -1;
    }
  }
  napi_close_handle_scope(env, scope);
  return result;
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  jn_socket *s = (jn_socket *)handle->data;
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_callback_scope callback_scope;
  napi_value callback, receiver, resource;
  int i;
  (void)status; /* an error condition is read (and cleared) by recvfrom like data */
  (void)events;

  if (s->fd < 0) return;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, s->on_message, &callback) != napi_ok || callback == NULL ||
      napi_get_reference_value(env, s->self, &resource) != napi_ok || resource == NULL ||
      napi_get_undefined(env, &receiver) != napi_ok) {
    napi_close_handle_scope(env, scope);
    return;
  }
  /* One callback scope for the whole batch: promises resolved by the handlers (a ping answered, say) run
   * their continuations when it closes, as they would after any Node I/O callback. */
  if (napi_open_callback_scope(env, resource, s->async_ctx, &callback_scope) != napi_ok) {
    napi_close_handle_scope(env, scope);
    return;
  }
  s->dispatching = 1;

  for (i = 0; i < JN_BATCH && s->fd >= 0; i++) {
    struct sockaddr_storage from;
    union { /* aligned room for one PACKET_AUXDATA control message */
      struct cmsghdr align;
      char bytes[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
    } control;
    struct iovec iov = {s->scratch, JN_SCRATCH};
    struct msghdr message;
    struct cmsghdr *cmsg;
    uint32_t a = 0, b = 0, flags = 0;
    ssize_t n;

    memset(&from, 0, sizeof from);
    memset(&message, 0, sizeof message);
    message.msg_name = &from;
    message.msg_namelen = sizeof from;
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof control.bytes;
    n = recvmsg(s->fd, &message, MSG_TRUNC | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      /* A pending socket error (ENETDOWN when the interface goes down, say) is reported once and
       * cleared by this read; count it and keep draining. The batch bound stops any spin. */
      if (errno != EINTR) s->recv_errors++;
      continue;
    }
    if ((size_t)n > JN_SCRATCH) {
      s->truncated++;
      continue;
    }
    if (s->kind == JN_KIND_ICMP || s->kind == JN_KIND_UDP) {
      const struct sockaddr_in *sin = (const struct sockaddr_in *)&from;
      a = from.ss_family == AF_INET ? ntohl(sin->sin_addr.s_addr) : 0;
      if (s->kind == JN_KIND_UDP && from.ss_family == AF_INET) b = ntohs(sin->sin_port);
    } else {
      const struct sockaddr_ll *sll = (const struct sockaddr_ll *)&from;
      a = (uint32_t)sll->sll_ifindex;
      b = sll->sll_pkttype;
      for (cmsg = CMSG_FIRSTHDR(&message); cmsg != NULL; cmsg = CMSG_NXTHDR(&message, cmsg)) {
        if (cmsg->cmsg_level == SOL_PACKET && cmsg->cmsg_type == PACKET_AUXDATA &&
            cmsg->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata))) {
          struct tpacket_auxdata aux;
          memcpy(&aux, CMSG_DATA(cmsg), sizeof aux);
          if (aux.tp_status & TP_STATUS_CSUMNOTREADY) flags |= JN_FLAG_CSUM_NOT_READY;
        }
      }
    }
    if (deliver(s, callback, receiver, (size_t)n, a, b, flags) != 0) break;
  }

  napi_close_callback_scope(env, callback_scope);
  s->dispatching = 0;
  if (s->fd < 0) release_js(s); /* closed by a handler during the batch */
  napi_close_handle_scope(env, scope);
}

/* ---------------------------------------------------------------------------------------------------- */
/* The Socket class                                                                                      */

static napi_value socket_new(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], this_value;
  napi_valuetype type;
  int32_t kind, ifindex, udp_port, rcvbuf;
  uint32_t udp_address = 0;
  uv_loop_t *loop;
  jn_socket *s;
  int fd;

  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, argv, &this_value, NULL));
  if (argc < 5) {
    throw_type(env, "Socket(kind, ifindex, udpPort, rcvbufBytes, onMessage): 5 arguments expected");
    return NULL;
  }
  NAPI_CHECK(env, napi_typeof(env, argv[4], &type));
  if (type != napi_function) {
    throw_type(env, "Socket: onMessage must be a function");
    return NULL;
  }
  if (napi_get_value_int32(env, argv[0], &kind) != napi_ok ||
      napi_get_value_int32(env, argv[1], &ifindex) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &udp_address) != napi_ok ||
      napi_get_value_int32(env, argv[2], &udp_port) != napi_ok ||
      napi_get_value_int32(env, argv[3], &rcvbuf) != napi_ok) {
    throw_type(env, "Socket: kind, ifindex, udpPort and rcvbufBytes must be numbers");
    return NULL;
  }
  if (kind != JN_KIND_ICMP && kind != JN_KIND_PACKET && kind != JN_KIND_UDP) {
    throw_type(env, "Socket: kind must be 0 (ICMP), 1 (packet) or 2 (UDP)");
    return NULL;
  }
  if (kind == JN_KIND_UDP && (udp_port < 0 || udp_port > 65535)) {
    throw_type(env, "Socket: a UDP socket needs a port 0-65535");
    return NULL;
  }
  if (kind == JN_KIND_PACKET && (ifindex <= 0 || udp_port <= 0 || udp_port > 65535)) {
    throw_type(env, "Socket: a packet socket needs an ifindex > 0 and a UDP port 1-65535");
    return NULL;
  }
  NAPI_CHECK(env, napi_get_uv_event_loop(env, &loop));

  /* For a UDP socket the second argument is the IPv4 address to bind (host order), not an ifindex. */
  fd = kind == JN_KIND_ICMP ? open_icmp(rcvbuf)
       : kind == JN_KIND_UDP ? open_udp(udp_address, udp_port, rcvbuf)
                             : open_packet(ifindex, udp_port, rcvbuf);
  if (fd < 0) {
    throw_errno(env, -fd, kind == JN_KIND_ICMP ? "cannot open raw ICMP socket"
                          : kind == JN_KIND_UDP ? "cannot bind UDP socket"
                                                : "cannot open packet socket");
    return NULL;
  }
  if (kind == JN_KIND_UDP) ifindex = 0;

  s = (jn_socket *)calloc(1, sizeof *s);
  if (s != NULL) s->scratch = (unsigned char *)malloc(JN_SCRATCH);
  if (s == NULL || s->scratch == NULL) {
    close(fd);
    if (s != NULL) free(s);
    throw_plain(env, "joind_net: out of memory");
    return NULL;
  }
  s->env = env;
  s->kind = kind;
  s->ifindex = ifindex;
  s->fd = fd;
  s->poll.data = s;

  /* From here on, failures go through close_socket(), which knows what has been set up. Until the object
   * wraps the struct, nobody else will free it. */
  if (napi_wrap(env, this_value, s, finalize_socket, NULL, NULL) != napi_ok) {
    s->wrapper_gone = 1;
    close_socket(s);
    maybe_free(s);
    throw_plain(env, "joind_net: napi_wrap failed");
    return NULL;
  }
  if (napi_create_reference(env, argv[4], 1, &s->on_message) != napi_ok ||
      napi_create_reference(env, this_value, 1, &s->self) != napi_ok) {
    close_socket(s);
    throw_plain(env, "joind_net: napi_create_reference failed");
    return NULL;
  }
  {
    napi_value name;
    if (napi_create_string_utf8(env, "joind_net.Socket", NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_async_init(env, this_value, name, &s->async_ctx) != napi_ok) {
      close_socket(s);
      throw_plain(env, "joind_net: napi_async_init failed");
      return NULL;
    }
  }
  {
    int err = uv_poll_init(loop, &s->poll, fd);
    if (err == 0) {
      s->poll_inited = 1;
      s->poll.data = s;
      err = uv_poll_start(&s->poll, UV_READABLE, on_readable);
    }
    if (err != 0) {
      close_socket(s);
      throw_errno(env, -err, "cannot watch socket");
      return NULL;
    }
  }
  if (napi_add_env_cleanup_hook(env, cleanup_hook, s) == napi_ok) s->cleanup_hook = 1;
  return this_value;
}

/* Fetches the struct behind `this` and the first `want` arguments. */
static jn_socket *unwrap(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_value this_value;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, &this_value, NULL) != napi_ok) {
    throw_plain(env, "joind_net: napi_get_cb_info failed");
    return NULL;
  }
  if (argc < want) {
    throw_type(env, "joind_net: missing argument");
    return NULL;
  }
  if (napi_unwrap(env, this_value, &data) != napi_ok || data == NULL) {
    throw_type(env, "joind_net: not a Socket");
    return NULL;
  }
  return (jn_socket *)data;
}

/* Reads a Uint8Array (Buffer or plain) argument. */
static int get_bytes(napi_env env, napi_value value, const unsigned char **bytes, size_t *length) {
  bool is_typedarray = false;
  napi_typedarray_type type;
  void *data;
  if (napi_is_typedarray(env, value, &is_typedarray) != napi_ok || !is_typedarray) return -1;
  if (napi_get_typedarray_info(env, value, &type, length, &data, NULL, NULL) != napi_ok) return -1;
  if (type != napi_uint8_array) return -1;
  *bytes = (const unsigned char *)data;
  return 0;
}

static napi_value errno_result(napi_env env, int err) {
  napi_value result;
  NAPI_CHECK(env, napi_create_int32(env, err, &result));
  return result;
}

/* sendTo(bytes, ipv4) on an ICMP socket: the kernel adds the IP header. sendTo(bytes, ipv4, port) on a
 * UDP socket. Synchronous: a datagram either goes now or the errno says why not. */
static napi_value socket_send_to(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  const unsigned char *bytes;
  size_t length;
  uint32_t address, port = 0;
  struct sockaddr_in to;
  ssize_t n;
  jn_socket *s = unwrap(env, info, 2, argv);
  if (s == NULL) return NULL;
  if (s->kind == JN_KIND_PACKET) {
    throw_type(env, "sendTo: only for ICMP and UDP sockets");
    return NULL;
  }
  if (get_bytes(env, argv[0], &bytes, &length) != 0 || napi_get_value_uint32(env, argv[1], &address) != napi_ok) {
    throw_type(env, "sendTo(bytes: Uint8Array, ipv4: number[, port: number])");
    return NULL;
  }
  if (s->kind == JN_KIND_UDP) {
    size_t argc = 3;
    napi_value this_value;
    if (napi_get_cb_info(env, info, &argc, argv, &this_value, NULL) != napi_ok || argc < 3 ||
        napi_get_value_uint32(env, argv[2], &port) != napi_ok || port == 0 || port > 65535) {
      throw_type(env, "sendTo on a UDP socket: a port 1-65535 is required");
      return NULL;
    }
  }
  if (s->fd < 0) return errno_result(env, EBADF);
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)port);
  to.sin_addr.s_addr = htonl(address);
  n = sendto(s->fd, bytes, length, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to);
  if (n < 0) return errno_result(env, errno);
  return errno_result(env, (size_t)n == length ? 0 : EMSGSIZE);
}

/* sendFrame(frame) on a packet socket: the frame is complete (Ethernet header included); the link-level
 * address is the socket's interface and the frame's own destination MAC. */
static napi_value socket_send_frame(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  const unsigned char *frame;
  size_t length;
  struct sockaddr_ll to;
  ssize_t n;
  jn_socket *s = unwrap(env, info, 1, argv);
  if (s == NULL) return NULL;
  if (s->kind != JN_KIND_PACKET) {
    throw_type(env, "sendFrame: only for packet sockets");
    return NULL;
  }
  if (get_bytes(env, argv[0], &frame, &length) != 0) {
    throw_type(env, "sendFrame(frame: Uint8Array)");
    return NULL;
  }
  if (s->fd < 0) return errno_result(env, EBADF);
  if (length < ETH_HLEN) return errno_result(env, EINVAL);
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_ifindex = s->ifindex;
  to.sll_protocol = htons((uint16_t)((frame[12] << 8) | frame[13]));
  to.sll_halen = ETH_ALEN;
  memcpy(to.sll_addr, frame, ETH_ALEN);
  n = sendto(s->fd, frame, length, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to);
  if (n < 0) return errno_result(env, errno);
  return errno_result(env, (size_t)n == length ? 0 : EMSGSIZE);
}

static int set_number(napi_env env, napi_value object, const char *name, double value) {
  napi_value number;
  if (napi_create_double(env, value, &number) != napi_ok) return -1;
  return napi_set_named_property(env, object, name, number) == napi_ok ? 0 : -1;
}

/* stats(): cumulative counters. kernelPackets/kernelDrops come from PACKET_STATISTICS (packet sockets;
 * the kernel resets them on each read, so they are accumulated here); drops mean the receive buffer
 * overflowed, the first thing to look at under load. */
static napi_value socket_stats(napi_env env, napi_callback_info info) {
  napi_value result;
  jn_socket *s = unwrap(env, info, 0, NULL);
  if (s == NULL) return NULL;
  if (s->fd >= 0 && s->kind == JN_KIND_PACKET) {
    struct tpacket_stats kstats;
    socklen_t length = sizeof kstats;
    if (getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &kstats, &length) == 0) {
      s->kernel_packets += kstats.tp_packets;
      s->kernel_drops += kstats.tp_drops;
    }
  }
  NAPI_CHECK(env, napi_create_object(env, &result));
  if (set_number(env, result, "kernelPackets", s->kernel_packets) != 0 ||
      set_number(env, result, "kernelDrops", s->kernel_drops) != 0 ||
      set_number(env, result, "recvErrors", s->recv_errors) != 0 ||
      set_number(env, result, "truncated", s->truncated) != 0) {
    throw_plain(env, "joind_net: cannot build stats object");
    return NULL;
  }
  return result;
}

/* localPort(): the port a UDP socket is bound to (useful after binding port 0); 0 for other kinds. */
static napi_value socket_local_port(napi_env env, napi_callback_info info) {
  napi_value result;
  struct sockaddr_in local;
  socklen_t length = sizeof local;
  uint32_t port = 0;
  jn_socket *s = unwrap(env, info, 0, NULL);
  if (s == NULL) return NULL;
  if (s->fd >= 0 && s->kind == JN_KIND_UDP && getsockname(s->fd, (struct sockaddr *)&local, &length) == 0)
    port = ntohs(local.sin_port);
  NAPI_CHECK(env, napi_create_uint32(env, port, &result));
  return result;
}

static napi_value socket_close(napi_env env, napi_callback_info info) {
  napi_value undefined;
  jn_socket *s = unwrap(env, info, 0, NULL);
  if (s == NULL) return NULL;
  close_socket(s);
  NAPI_CHECK(env, napi_get_undefined(env, &undefined));
  return undefined;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Interface helpers                                                                                     */

/* Copies a JS string argument into an interface name buffer; -1 when not a string or too long. */
static int get_ifname(napi_env env, napi_callback_info info, char name[IF_NAMESIZE]) {
  size_t argc = 1, length = 0;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return -1;
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &length) != napi_ok) return -1;
  if (length == 0 || length >= IF_NAMESIZE) return -1;
  if (napi_get_value_string_utf8(env, argv[0], name, IF_NAMESIZE, &length) != napi_ok) return -1;
  return 0;
}

static napi_value if_name_to_index(napi_env env, napi_callback_info info) {
  char name[IF_NAMESIZE];
  napi_value result;
  unsigned index = 0;
  if (get_ifname(env, info, name) == 0) index = if_nametoindex(name);
  NAPI_CHECK(env, napi_create_uint32(env, index, &result));
  return result;
}

static napi_value if_hardware_address(napi_env env, napi_callback_info info) {
  char name[IF_NAMESIZE];
  struct ifreq request;
  napi_value result;
  int fd, ok;
  if (get_ifname(env, info, name) != 0) {
    NAPI_CHECK(env, napi_get_null(env, &result));
    return result;
  }
  memset(&request, 0, sizeof request);
  memcpy(request.ifr_name, name, strlen(name) + 1);
  fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ok = fd >= 0 && ioctl(fd, SIOCGIFHWADDR, &request) == 0 && request.ifr_hwaddr.sa_family == ARPHRD_ETHER;
  if (fd >= 0) close(fd);
  if (!ok) {
    NAPI_CHECK(env, napi_get_null(env, &result));
    return result;
  }
  NAPI_CHECK(env, napi_create_buffer_copy(env, ETH_ALEN, request.ifr_hwaddr.sa_data, NULL, &result));
  return result;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Users and privileges (--user): Node can setuid, but not look a user up without becoming it, and it    */
/* cannot keep capabilities across the change of uid (prctl and capset are not exposed).                 */

/* Reads a string argument into out (NUL-terminated); -1 when it is not a string or does not fit. */
static int get_name(napi_env env, napi_value value, char *out, size_t size) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return -1;
  if (length == 0 || length >= size) return -1;
  if (napi_get_value_string_utf8(env, value, out, size, &length) != napi_ok) return -1;
  return 0;
}

/* Scratch size for the *_r lookups: start with what sysconf suggests, grow on ERANGE up to 1 MiB. */
#define JN_NSS_MAX (1 << 20)

static napi_value lookup_user(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result, value;
  char name[256];
  struct passwd entry, *found = NULL;
  size_t size = 16384;
  char *buffer = NULL;
  int err;
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || get_name(env, argv[0], name, sizeof name) != 0) {
    throw_type(env, "lookupUser(name): name must be a non-empty string");
    return NULL;
  }
  for (;;) {
    buffer = malloc(size);
    if (buffer == NULL) { throw_errno(env, ENOMEM, "cannot look up user"); return NULL; }
    err = getpwnam_r(name, &entry, buffer, size, &found);
    if (err != ERANGE || size >= JN_NSS_MAX) break;
    free(buffer);
    size *= 2;
  }
  if (err != 0 && err != ENOENT && err != ESRCH && err != EBADF && err != EPERM) {
    free(buffer);
    throw_errno(env, err, "cannot look up user");
    return NULL;
  }
  if (found == NULL) {
    free(buffer);
    NAPI_CHECK(env, napi_get_null(env, &result));
    return result;
  }
  if (napi_create_object(env, &result) != napi_ok ||
      napi_create_string_utf8(env, entry.pw_name, NAPI_AUTO_LENGTH, &value) != napi_ok ||
      napi_set_named_property(env, result, "name", value) != napi_ok ||
      napi_create_uint32(env, entry.pw_uid, &value) != napi_ok ||
      napi_set_named_property(env, result, "uid", value) != napi_ok ||
      napi_create_uint32(env, entry.pw_gid, &value) != napi_ok ||
      napi_set_named_property(env, result, "gid", value) != napi_ok) {
    free(buffer);
    throw_plain(env, "joind_net: cannot build the user record");
    return NULL;
  }
  free(buffer);
  return result;
}

static napi_value lookup_group(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  char name[256];
  struct group entry, *found = NULL;
  size_t size = 16384;
  char *buffer = NULL;
  int err;
  gid_t gid = 0;
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || get_name(env, argv[0], name, sizeof name) != 0) {
    throw_type(env, "lookupGroup(name): name must be a non-empty string");
    return NULL;
  }
  for (;;) {
    buffer = malloc(size);
    if (buffer == NULL) { throw_errno(env, ENOMEM, "cannot look up group"); return NULL; }
    err = getgrnam_r(name, &entry, buffer, size, &found);
    if (err != ERANGE || size >= JN_NSS_MAX) break;
    free(buffer);
    size *= 2;
  }
  if (found != NULL) gid = entry.gr_gid;
  free(buffer);
  if (err != 0 && err != ENOENT && err != ESRCH && err != EBADF && err != EPERM) {
    throw_errno(env, err, "cannot look up group");
    return NULL;
  }
  if (found == NULL) NAPI_CHECK(env, napi_get_null(env, &result));
  else NAPI_CHECK(env, napi_create_uint32(env, gid, &result));
  return result;
}

/* The groups a process of this user should carry, as initgroups(3) would set them. */
static napi_value user_groups(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result, value;
  char name[256];
  uint32_t gid;
  int count = 64, i;
  gid_t *groups = NULL;
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || get_name(env, argv[0], name, sizeof name) != 0 || napi_get_value_uint32(env, argv[1], &gid) != napi_ok) {
    throw_type(env, "userGroups(name, gid): expected a user name and a group id");
    return NULL;
  }
  for (;;) {
    int wanted = count;
    groups = malloc(sizeof *groups * (size_t)count);
    if (groups == NULL) { throw_errno(env, ENOMEM, "cannot list the user's groups"); return NULL; }
    if (getgrouplist(name, (gid_t)gid, groups, &wanted) >= 0) { count = wanted; break; }
    free(groups);
    if (wanted <= count || wanted > 65536) { throw_errno(env, EINVAL, "cannot list the user's groups"); return NULL; }
    count = wanted;
  }
  if (napi_create_array_with_length(env, (size_t)count, &result) != napi_ok) { free(groups); throw_plain(env, "joind_net: cannot build the group list"); return NULL; }
  for (i = 0; i < count; i++) {
    if (napi_create_uint32(env, groups[i], &value) != napi_ok || napi_set_element(env, result, (uint32_t)i, value) != napi_ok) {
      free(groups);
      throw_plain(env, "joind_net: cannot build the group list");
      return NULL;
    }
  }
  free(groups);
  return result;
}

/* Reads an array of uint32 into out (at most max); the count, or -1 when it is not such an array. */
static int get_uint_array(napi_env env, napi_value array, uint32_t *out, uint32_t max) {
  bool is_array = false;
  uint32_t length = 0, i;
  napi_value element;
  if (napi_is_array(env, array, &is_array) != napi_ok || !is_array) return -1;
  if (napi_get_array_length(env, array, &length) != napi_ok || length > max) return -1;
  for (i = 0; i < length; i++) {
    if (napi_get_element(env, array, i, &element) != napi_ok || napi_get_value_uint32(env, element, &out[i]) != napi_ok) return -1;
  }
  return (int)length;
}

#define JN_MAX_GROUPS 65536
#define JN_CAP_WORDS 2 /* _LINUX_CAPABILITY_U32S_3: capabilities 0..63 */

/*
 * The order matters and each step is checked:
 *  1. bounding set = keep (needs CAP_SETPCAP, so while still root): nothing exec'd later can regain more;
 *  2. ambient set cleared, so no capability is passed to a child by exec;
 *  3. PR_SET_KEEPCAPS, so the permitted set survives the change of uid (it is per thread: this thread, the
 *     one that runs JavaScript, keeps it; other threads of the process lose every capability);
 *  4. groups, then gid, then uid (gid first: after setuid we could no longer change it); glibc applies
 *     these to every thread of the process;
 *  5. capset: permitted = effective = keep, inheritable empty (setuid cleared the effective set);
 *  6. keepcaps off again and no_new_privs on (no setuid binary or file capability can raise us);
 *  7. proof: real, effective and saved ids are the new ones, and setuid(0) fails.
 */
static napi_value drop_privileges(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result;
  uint32_t uid, gid, keep_list[64];
  uint32_t *group_list = NULL;
  gid_t *groups = NULL;
  int group_count, keep_count, i, cap;
  uint64_t keep = 0;
  struct __user_cap_header_struct header;
  struct __user_cap_data_struct data[JN_CAP_WORDS];
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  const char *step = NULL;
  int err = 0;

  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || napi_get_value_uint32(env, argv[0], &uid) != napi_ok || napi_get_value_uint32(env, argv[1], &gid) != napi_ok) {
    throw_type(env, "dropPrivileges(uid, gid, groups, keep): expected numbers and two arrays");
    return NULL;
  }
  group_list = malloc(sizeof *group_list * JN_MAX_GROUPS);
  if (group_list == NULL) { throw_errno(env, ENOMEM, "cannot drop privileges"); return NULL; }
  group_count = get_uint_array(env, argv[2], group_list, JN_MAX_GROUPS);
  keep_count = get_uint_array(env, argv[3], keep_list, 64);
  if (group_count < 0 || keep_count < 0) {
    free(group_list);
    throw_type(env, "dropPrivileges: groups must be an array of gids, keep an array of capability numbers (0..63)");
    return NULL;
  }
  for (i = 0; i < keep_count; i++) {
    if (keep_list[i] > 63) { free(group_list); throw_type(env, "dropPrivileges: capability number out of range"); return NULL; }
    keep |= (uint64_t)1 << keep_list[i];
  }
  groups = malloc(sizeof *groups * (size_t)(group_count > 0 ? group_count : 1));
  if (groups == NULL) { free(group_list); throw_errno(env, ENOMEM, "cannot drop privileges"); return NULL; }
  for (i = 0; i < group_count; i++) groups[i] = (gid_t)group_list[i];
  free(group_list);

  if (geteuid() != 0) { err = EPERM; step = "cannot drop privileges: not running as root"; goto done; }

  for (cap = 0; cap < 64; cap++) {
    int present = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (present < 0) break; /* EINVAL: past the last capability this kernel knows */
    if (present == 0 || (keep & ((uint64_t)1 << cap))) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) { err = errno; step = "cannot shrink the capability bounding set (needs CAP_SETPCAP)"; goto done; }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) { err = errno; step = "cannot clear the ambient capabilities"; goto done; }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) { err = errno; step = "cannot keep capabilities across the change of user (PR_SET_KEEPCAPS)"; goto done; }
  if (setgroups((size_t)group_count, groups) < 0) { err = errno; step = "cannot set the supplementary groups"; goto done; }
  if (setresgid(gid, gid, gid) < 0) { err = errno; step = "cannot change group"; goto done; }
  if (setresuid(uid, uid, uid) < 0) { err = errno; step = "cannot change user"; goto done; }

  memset(&header, 0, sizeof header);
  memset(data, 0, sizeof data);
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  for (i = 0; i < JN_CAP_WORDS; i++) {
    data[i].permitted = data[i].effective = (uint32_t)(keep >> (32 * i));
  }
  if (syscall(SYS_capset, &header, data) < 0) { err = errno; step = "cannot set the kept capabilities (capset)"; goto done; }
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) { err = errno; step = "cannot clear PR_SET_KEEPCAPS"; goto done; }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) { err = errno; step = "cannot set no_new_privs"; goto done; }

  if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0 || ruid != uid || euid != uid ||
      suid != uid || rgid != gid || egid != gid || sgid != gid) {
    err = EPERM; step = "user or group ids are not the requested ones after the change"; goto done;
  }
  if (uid != 0 && setuid(0) == 0) { err = EPERM; step = "root could be regained after the change"; goto done; }

done:
  free(groups);
  if (step != NULL) {
    throw_errno(env, err, step);
    return NULL;
  }
  NAPI_CHECK(env, napi_get_undefined(env, &result));
  return result;
}

/* ---------------------------------------------------------------------------------------------------- */

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"sendTo", NULL, socket_send_to, NULL, NULL, NULL, napi_default, NULL},
      {"sendFrame", NULL, socket_send_frame, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, socket_stats, NULL, NULL, NULL, napi_default, NULL},
      {"localPort", NULL, socket_local_port, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, socket_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_property_descriptor functions[] = {
      {"ifNameToIndex", NULL, if_name_to_index, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ifHardwareAddress", NULL, if_hardware_address, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lookupUser", NULL, lookup_user, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lookupGroup", NULL, lookup_group, NULL, NULL, NULL, napi_enumerable, NULL},
      {"userGroups", NULL, user_groups, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dropPrivileges", NULL, drop_privileges, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_value socket_class;
  NAPI_CHECK(env, napi_define_class(env, "Socket", NAPI_AUTO_LENGTH, socket_new, NULL,
                                    sizeof methods / sizeof methods[0], methods, &socket_class));
  NAPI_CHECK(env, napi_set_named_property(env, exports, "Socket", socket_class));
  NAPI_CHECK(env, napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
