// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for chunk pools and queues: ordering, bounded memory, abort wake-ups. */
#include <pthread.h>

#include "flash/chunk-queue.h"
#include "tests.h"

#define N_ITEMS 10000

struct ctx {
	struct flow flow;
	struct chunk_pool pool;
	struct chunk_queue q;
};

static void *producer(void *p)
{
	struct ctx *c = p;
	for (uint64_t i = 0; i < N_ITEMS; i++) {
		struct chunk *k = chunk_pool_get(&c->pool, NULL);
		if (!k)
			return NULL;
		k->offset = i;
		k->len = 1;
		k->data[0] = (uint8_t)i;
		chunk_queue_push(&c->q, k);
	}
	chunk_queue_close(&c->q);
	return NULL;
}

TEST(order_and_bound)
{
	struct ctx c;
	pthread_t t;
	struct chunk *k;
	uint64_t want = 0;

	ASSERT_EQ(flow_init(&c.flow), 0);
	ASSERT_EQ(chunk_pool_init(&c.pool, &c.flow, 3, 4096), 0);
	chunk_queue_init(&c.q, &c.flow);
	ASSERT_EQ(pthread_create(&t, NULL, producer, &c), 0);
	while ((k = chunk_queue_pop(&c.q))) {
		ASSERT_EQ(k->offset, want);
		ASSERT_EQ(k->data[0], (uint8_t)want);
		ASSERT_EQ((uintptr_t)k->data % 4096, 0);
		want++;
		chunk_release(k);
	}
	ASSERT_EQ(want, N_ITEMS);
	ASSERT_TRUE(!flow_is_aborted(&c.flow));
	pthread_join(t, NULL);
	chunk_pool_destroy(&c.pool);
	flow_destroy(&c.flow);
}

static void *blocked_getter(void *p)
{
	struct ctx *c = p;
	/* the pool is empty: this waits until the abort */
	return chunk_pool_get(&c->pool, NULL);
}

TEST(abort_wakes_waiters)
{
	struct ctx c;
	pthread_t t;
	void *res = (void *)1;
	struct chunk *k;

	ASSERT_EQ(flow_init(&c.flow), 0);
	ASSERT_EQ(chunk_pool_init(&c.pool, &c.flow, 1, 4096), 0);
	chunk_queue_init(&c.q, &c.flow);
	k = chunk_pool_get(&c.pool, NULL);
	ASSERT_TRUE(k != NULL);
	ASSERT_EQ(pthread_create(&t, NULL, blocked_getter, &c), 0);
	flow_abort(&c.flow);
	pthread_join(t, &res);
	ASSERT_TRUE(res == NULL);
	ASSERT_TRUE(chunk_queue_pop(&c.q) == NULL);
	chunk_release(k);
	chunk_queue_drain(&c.q);
	chunk_pool_destroy(&c.pool);
	flow_destroy(&c.flow);
}

RUN(T(order_and_bound), T(abort_wakes_waiters))
