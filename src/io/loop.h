/*
 * The event loop of the I/O engine: epoll for file descriptors, one timerfd
 * for nanosecond-precise timers (pacing needs better than epoll_wait's
 * milliseconds), and a min-heap of timers. Single-threaded; callbacks run on
 * the loop's thread. The clock is CLOCK_MONOTONIC in nanoseconds, the same
 * time base the sans-I/O cores are given.
 */
#ifndef SKIFF_IO_LOOP_H
#define SKIFF_IO_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"

typedef struct skiff_loop skiff_loop;
typedef struct skiff_timer skiff_timer;

typedef void (*skiff_loop_fd_cb)(skiff_loop *loop, int fd, uint32_t events, void *ud);
typedef void (*skiff_timer_cb)(skiff_loop *loop, skiff_timer *timer, void *ud);

/* A timer owned by the caller (embedded in its object); the loop only links it. */
struct skiff_timer {
    skiff_time deadline;
    size_t heap_index; /* SIZE_MAX when not armed */
    skiff_timer_cb cb;
    void *ud;
};

/* The monotonic clock, in nanoseconds. */
skiff_time skiff_clock_now(void);

/* Returns 0 or a negative errno. */
int skiff_loop_new(skiff_loop **out);
void skiff_loop_free(skiff_loop *loop);

/* events: EPOLLIN / EPOLLOUT (sys/epoll.h). Returns 0 or a negative errno. */
int skiff_loop_add_fd(skiff_loop *loop, int fd, uint32_t events, skiff_loop_fd_cb cb, void *ud);
int skiff_loop_mod_fd(skiff_loop *loop, int fd, uint32_t events);
void skiff_loop_del_fd(skiff_loop *loop, int fd);

void skiff_timer_init(skiff_timer *t, skiff_timer_cb cb, void *ud);
/* Arms (or re-arms) t for `deadline`; SKIFF_TIME_NEVER disarms it.
 * Returns 0, or SKIFF_ERR_NOMEM. */
int skiff_timer_set(skiff_loop *loop, skiff_timer *t, skiff_time deadline);
void skiff_timer_cancel(skiff_loop *loop, skiff_timer *t);
static inline bool skiff_timer_armed(const skiff_timer *t)
{
    return t->heap_index != SIZE_MAX;
}

/* Waits at most until `until` (SKIFF_TIME_NEVER: no limit) for events and
 * due timers, runs their callbacks, and returns the number of callbacks run
 * or a negative errno. */
int skiff_loop_run_once(skiff_loop *loop, skiff_time until);

/* Runs until skiff_loop_stop() or until `until`. Returns 0 or a negative errno. */
int skiff_loop_run(skiff_loop *loop, skiff_time until);
void skiff_loop_stop(skiff_loop *loop);

#endif
