/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bounded buffers between the pipeline's threads: fixed pools of chunks (so memory has a hard
 * cap) and FIFOs that carry them from one stage to the next. One lock and one condition
 * variable (struct flow) serve every pool and queue of a pipeline: the traffic is a few
 * operations per MiB, and a single abort wakes every waiting thread. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flow {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool aborted;
};

struct chunk {
	struct chunk *next;
	struct chunk_pool *home;
	uint64_t offset; /* position of data[0] in its stream */
	size_t len, cap;
	uint8_t *data; /* 4 KiB aligned */
};

struct chunk_pool {
	struct flow *flow;
	struct chunk *free_list;
	struct chunk *all;
	size_t count;
};

struct chunk_queue {
	struct flow *flow;
	struct chunk *head, *tail;
	bool closed;
};

int flow_init(struct flow *f);
void flow_destroy(struct flow *f);
/* Make every current and future wait return NULL. */
void flow_abort(struct flow *f);
bool flow_is_aborted(struct flow *f);

/* Allocate count chunks of size bytes. 0 or -ENOMEM. */
int chunk_pool_init(struct chunk_pool *p, struct flow *f, size_t count, size_t size);
void chunk_pool_destroy(struct chunk_pool *p);
/* A free chunk (len 0), waiting for one if needed; NULL once the flow is aborted.
 * *ret_waited (optional) is set to whether the call had to wait. */
struct chunk *chunk_pool_get(struct chunk_pool *p, bool *ret_waited);
/* Give a chunk back to the pool it came from. */
void chunk_release(struct chunk *c);

void chunk_queue_init(struct chunk_queue *q, struct flow *f);
void chunk_queue_push(struct chunk_queue *q, struct chunk *c);
/* No more pushes: pop returns NULL once the queue is empty. */
void chunk_queue_close(struct chunk_queue *q);
/* The next chunk; NULL at the end of a closed queue or once aborted (flow_is_aborted tells). */
struct chunk *chunk_queue_pop(struct chunk_queue *q);
/* Release whatever is still queued (after the threads are joined). */
void chunk_queue_drain(struct chunk_queue *q);
