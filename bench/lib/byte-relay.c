/*
 * The proxy benchmark's floor: the least work any user-space relay can do. One thread, epoll, every accepted
 * connection tied to its own connection to one upstream, bytes copied both ways with read()/write() and no parsing, no
 * routing, no headers. Whatever a real proxy does on top of this costs more; what this costs is what the kernel charges
 * for two extra loopback hops. Built by proxy-systems.ts with the machine's C compiler; not part of nodehub.
 *
 *   byte-relay <listen port> <upstream port> [listen address]   (upstream on 127.0.0.1; listening on 127.0.0.1 unless
 *                                                                 given: the storm's mock servers listen on pod IPs)
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 65536
#define BUF (256 * 1024)

/* Per descriptor: its peer, and bytes read from the peer that this descriptor could not take yet. */
static struct { int peer; char *pending; size_t off, len; } conn[MAX_FD];
static int ep;

static void drop(int fd) {
  int peer = conn[fd].peer;
  for (int f = fd, i = 0; i < 2 && f >= 0; f = peer, i++) {
    free(conn[f].pending);
    conn[f].pending = NULL;
    conn[f].peer = -1;
    close(f);
  }
}

static void watch(int fd, int op, unsigned events) {
  struct epoll_event ev = {.events = events, .data.fd = fd};
  epoll_ctl(ep, op, fd, &ev);
}

/* Writes what fits; keeps the rest and stops reading the source until the destination drains. */
static int send_or_hold(int to, int from, const char *data, size_t n) {
  ssize_t w = write(to, data, n);
  if (w < 0 && errno != EAGAIN) return -1;
  if (w < 0) w = 0;
  if ((size_t)w == n) return 0;
  conn[to].pending = malloc(n - w);
  memcpy(conn[to].pending, data + w, n - w);
  conn[to].off = 0;
  conn[to].len = n - w;
  watch(to, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
  watch(from, EPOLL_CTL_MOD, 0);
  return 0;
}

static int connect_upstream(int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int u = socket(AF_INET, SOCK_STREAM, 0);
  if (u < 0 || connect(u, (struct sockaddr *)&a, sizeof a) != 0) {
    if (u >= 0) close(u);
    return -1;
  }
  return u;
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) return fprintf(stderr, "usage: byte-relay <listen port> <upstream port> [listen address]\n"), 2;
  signal(SIGPIPE, SIG_IGN);
  for (int f = 0; f < MAX_FD; f++) conn[f].peer = -1;
  int one = 1, upstream_port = atoi(argv[2]);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (argc == 4 && inet_pton(AF_INET, argv[3], &a.sin_addr) != 1) return fprintf(stderr, "byte-relay: bad address %s\n", argv[3]), 2;
  if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 4096) != 0) return perror("byte-relay: listen"), 1;
  ep = epoll_create1(0);
  watch(ls, EPOLL_CTL_ADD, EPOLLIN);
  static char buf[BUF];
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == ls) {
        int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
        if (c < 0) continue;
        int u = connect_upstream(upstream_port); /* blocking connect on loopback, then non-blocking */
        if (u < 0 || c >= MAX_FD || u >= MAX_FD) {
          close(c);
          if (u >= 0) close(u);
          continue;
        }
        fcntl(u, F_SETFL, fcntl(u, F_GETFL) | O_NONBLOCK);
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn[c].peer = u;
        conn[u].peer = c;
        watch(c, EPOLL_CTL_ADD, EPOLLIN);
        watch(u, EPOLL_CTL_ADD, EPOLLIN);
        continue;
      }
      if (conn[fd].peer < 0) continue; /* dropped earlier in this batch */
      if (evs[i].events & EPOLLOUT && conn[fd].pending) {
        ssize_t w = write(fd, conn[fd].pending + conn[fd].off, conn[fd].len - conn[fd].off);
        if (w < 0 && errno != EAGAIN) { drop(fd); continue; }
        if (w > 0) conn[fd].off += w;
        if (conn[fd].off == conn[fd].len) {
          free(conn[fd].pending);
          conn[fd].pending = NULL;
          watch(fd, EPOLL_CTL_MOD, EPOLLIN);
          watch(conn[fd].peer, EPOLL_CTL_MOD, EPOLLIN);
        }
        continue;
      }
      ssize_t r = read(fd, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EAGAIN)) { drop(fd); continue; }
      if (r > 0 && send_or_hold(conn[fd].peer, fd, buf, r) != 0) drop(fd);
    }
  }
}
