/*
 * epoll + timerfd event loop. Timers live in a binary min-heap keyed by
 * deadline; the timerfd is armed (absolute, CLOCK_MONOTONIC) for the
 * earliest one, so a timer fires with nanosecond precision however many are
 * armed. File descriptors map to their callbacks through a small array
 * indexed by fd.
 */
#include "io/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define EVENTS_MAX 64

typedef struct fd_entry {
    skiff_loop_fd_cb cb;
    void *ud;
} fd_entry;

struct skiff_loop {
    int epfd;
    int tfd;
    skiff_time tfd_armed_for;
    skiff_timer **heap;
    size_t heap_len, heap_cap;
    fd_entry *fds;
    size_t fds_cap;
    bool stop;
};

skiff_time skiff_clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (skiff_time)ts.tv_sec * 1000000000u + (skiff_time)ts.tv_nsec;
}

int skiff_loop_new(skiff_loop **out)
{
    skiff_loop *l = calloc(1, sizeof *l);
    if (!l) return -ENOMEM;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    l->tfd_armed_for = SKIFF_TIME_NEVER;
    if (l->epfd < 0 || l->tfd < 0) {
        int err = -errno;
        skiff_loop_free(l);
        return err;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = l->tfd};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->tfd, &ev) != 0) {
        int err = -errno;
        skiff_loop_free(l);
        return err;
    }
    *out = l;
    return 0;
}

void skiff_loop_free(skiff_loop *l)
{
    if (!l) return;
    if (l->epfd >= 0) close(l->epfd);
    if (l->tfd >= 0) close(l->tfd);
    free(l->heap);
    free(l->fds);
    free(l);
}

int skiff_loop_add_fd(skiff_loop *l, int fd, uint32_t events, skiff_loop_fd_cb cb, void *ud)
{
    if (fd < 0) return -EBADF;
    if ((size_t)fd >= l->fds_cap) {
        size_t cap = (size_t)fd + 16;
        fd_entry *f = realloc(l->fds, cap * sizeof *f);
        if (!f) return -ENOMEM;
        memset(f + l->fds_cap, 0, (cap - l->fds_cap) * sizeof *f);
        l->fds = f;
        l->fds_cap = cap;
    }
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) return -errno;
    l->fds[fd] = (fd_entry){cb, ud};
    return 0;
}

int skiff_loop_mod_fd(skiff_loop *l, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -errno;
}

void skiff_loop_del_fd(skiff_loop *l, int fd)
{
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    if (fd >= 0 && (size_t)fd < l->fds_cap) l->fds[fd] = (fd_entry){0};
}

/* ---- timer heap ---- */

static void heap_swap(skiff_loop *l, size_t a, size_t b)
{
    skiff_timer *t = l->heap[a];
    l->heap[a] = l->heap[b];
    l->heap[b] = t;
    l->heap[a]->heap_index = a;
    l->heap[b]->heap_index = b;
}

static void sift_up(skiff_loop *l, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (l->heap[parent]->deadline <= l->heap[i]->deadline) break;
        heap_swap(l, i, parent);
        i = parent;
    }
}

static void sift_down(skiff_loop *l, size_t i)
{
    for (;;) {
        size_t left = 2 * i + 1, right = left + 1, min = i;
        if (left < l->heap_len && l->heap[left]->deadline < l->heap[min]->deadline) min = left;
        if (right < l->heap_len && l->heap[right]->deadline < l->heap[min]->deadline) min = right;
        if (min == i) return;
        heap_swap(l, i, min);
        i = min;
    }
}

void skiff_timer_init(skiff_timer *t, skiff_timer_cb cb, void *ud)
{
    t->deadline = SKIFF_TIME_NEVER;
    t->heap_index = SIZE_MAX;
    t->cb = cb;
    t->ud = ud;
}

void skiff_timer_cancel(skiff_loop *l, skiff_timer *t)
{
    size_t i = t->heap_index;
    if (i == SIZE_MAX) return;
    t->heap_index = SIZE_MAX;
    l->heap_len--;
    if (i == l->heap_len) return;
    l->heap[i] = l->heap[l->heap_len];
    l->heap[i]->heap_index = i;
    sift_down(l, i);
    sift_up(l, i);
}

int skiff_timer_set(skiff_loop *l, skiff_timer *t, skiff_time deadline)
{
    if (deadline == SKIFF_TIME_NEVER) {
        skiff_timer_cancel(l, t);
        return 0;
    }
    if (t->heap_index != SIZE_MAX) {
        t->deadline = deadline;
        sift_down(l, t->heap_index);
        sift_up(l, t->heap_index);
        return 0;
    }
    if (l->heap_len == l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 64;
        skiff_timer **h = realloc(l->heap, cap * sizeof *h);
        if (!h) return SKIFF_ERR_NOMEM;
        l->heap = h;
        l->heap_cap = cap;
    }
    t->deadline = deadline;
    t->heap_index = l->heap_len;
    l->heap[l->heap_len++] = t;
    sift_up(l, t->heap_index);
    return 0;
}

static void arm_timerfd(skiff_loop *l)
{
    skiff_time next = l->heap_len ? l->heap[0]->deadline : SKIFF_TIME_NEVER;
    if (next == l->tfd_armed_for) return;
    struct itimerspec its = {0};
    if (next != SKIFF_TIME_NEVER) {
        if (next == 0) next = 1; /* 0 would disarm */
        its.it_value.tv_sec = (time_t)(next / 1000000000u);
        its.it_value.tv_nsec = (long)(next % 1000000000u);
    }
    timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
    l->tfd_armed_for = next;
}

static int run_due_timers(skiff_loop *l)
{
    int ran = 0;
    skiff_time now = skiff_clock_now();
    /* Bounded: timers re-armed for `now` or earlier wait for the next turn. */
    size_t budget = l->heap_len;
    while (budget-- > 0 && l->heap_len && l->heap[0]->deadline <= now) {
        skiff_timer *t = l->heap[0];
        skiff_timer_cancel(l, t);
        t->cb(l, t, t->ud);
        ran++;
    }
    return ran;
}

int skiff_loop_run_once(skiff_loop *l, skiff_time until)
{
    int ran = run_due_timers(l);
    arm_timerfd(l);
    int timeout_ms = -1;
    if (ran > 0) {
        timeout_ms = 0;
    } else if (until != SKIFF_TIME_NEVER) {
        skiff_time now = skiff_clock_now();
        timeout_ms = until <= now ? 0 : (int)((until - now + 999999) / 1000000);
    }
    struct epoll_event evs[EVENTS_MAX];
    int n = epoll_wait(l->epfd, evs, EVENTS_MAX, timeout_ms);
    if (n < 0) return errno == EINTR ? ran : -errno;
    for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        if (fd == l->tfd) {
            uint64_t expirations;
            (void)!read(l->tfd, &expirations, sizeof expirations);
            l->tfd_armed_for = SKIFF_TIME_NEVER;
            continue;
        }
        if ((size_t)fd < l->fds_cap && l->fds[fd].cb) {
            l->fds[fd].cb(l, fd, evs[i].events, l->fds[fd].ud);
            ran++;
        }
    }
    return ran + run_due_timers(l);
}

int skiff_loop_run(skiff_loop *l, skiff_time until)
{
    l->stop = false;
    while (!l->stop) {
        if (until != SKIFF_TIME_NEVER && skiff_clock_now() >= until) return 0;
        int rv = skiff_loop_run_once(l, until);
        if (rv < 0) return rv;
    }
    return 0;
}

void skiff_loop_stop(skiff_loop *l)
{
    l->stop = true;
}
