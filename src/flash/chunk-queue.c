// SPDX-License-Identifier: GPL-2.0-or-later
/* Chunk pools and FIFOs for the flash pipeline. */
#include "flash/chunk-queue.h"

#include <errno.h>
#include <stdlib.h>

int flow_init(struct flow *f)
{
	f->aborted = false;
	if (pthread_mutex_init(&f->lock, NULL) != 0)
		return -ENOMEM;
	if (pthread_cond_init(&f->cond, NULL) != 0) {
		pthread_mutex_destroy(&f->lock);
		return -ENOMEM;
	}
	return 0;
}

void flow_destroy(struct flow *f)
{
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
}

void flow_abort(struct flow *f)
{
	pthread_mutex_lock(&f->lock);
	f->aborted = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

bool flow_is_aborted(struct flow *f)
{
	bool a;

	pthread_mutex_lock(&f->lock);
	a = f->aborted;
	pthread_mutex_unlock(&f->lock);
	return a;
}

int chunk_pool_init(struct chunk_pool *p, struct flow *f, size_t count, size_t size)
{
	*p = (struct chunk_pool){ .flow = f };
	for (size_t i = 0; i < count; i++) {
		struct chunk *c = calloc(1, sizeof(*c));
		if (!c)
			goto fail;
		if (posix_memalign((void **)&c->data, 4096, size) != 0) {
			free(c);
			goto fail;
		}
		c->cap = size;
		c->home = p;
		c->next = p->free_list;
		p->free_list = c;
		p->count++;
	}
	return 0;
fail:
	chunk_pool_destroy(p);
	return -ENOMEM;
}

void chunk_pool_destroy(struct chunk_pool *p)
{
	/* Every chunk is back in the free list once the threads are joined and queues drained. */
	while (p->free_list) {
		struct chunk *c = p->free_list;
		p->free_list = c->next;
		free(c->data);
		free(c);
	}
	p->count = 0;
}

struct chunk *chunk_pool_get(struct chunk_pool *p, bool *ret_waited)
{
	struct chunk *c = NULL;
	bool waited = false;

	pthread_mutex_lock(&p->flow->lock);
	while (!p->flow->aborted && !p->free_list) {
		waited = true;
		pthread_cond_wait(&p->flow->cond, &p->flow->lock);
	}
	if (!p->flow->aborted) {
		c = p->free_list;
		p->free_list = c->next;
		c->next = NULL;
		c->len = 0;
		c->offset = 0;
	}
	pthread_mutex_unlock(&p->flow->lock);
	if (ret_waited)
		*ret_waited = waited;
	return c;
}

void chunk_release(struct chunk *c)
{
	struct chunk_pool *p;

	if (!c)
		return;
	p = c->home;
	pthread_mutex_lock(&p->flow->lock);
	c->next = p->free_list;
	p->free_list = c;
	pthread_cond_broadcast(&p->flow->cond);
	pthread_mutex_unlock(&p->flow->lock);
}

void chunk_queue_init(struct chunk_queue *q, struct flow *f)
{
	*q = (struct chunk_queue){ .flow = f };
}

void chunk_queue_push(struct chunk_queue *q, struct chunk *c)
{
	pthread_mutex_lock(&q->flow->lock);
	c->next = NULL;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	pthread_cond_broadcast(&q->flow->cond);
	pthread_mutex_unlock(&q->flow->lock);
}

void chunk_queue_close(struct chunk_queue *q)
{
	pthread_mutex_lock(&q->flow->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->flow->cond);
	pthread_mutex_unlock(&q->flow->lock);
}

struct chunk *chunk_queue_pop(struct chunk_queue *q)
{
	struct chunk *c = NULL;

	pthread_mutex_lock(&q->flow->lock);
	while (!q->flow->aborted && !q->head && !q->closed)
		pthread_cond_wait(&q->flow->cond, &q->flow->lock);
	if (!q->flow->aborted && q->head) {
		c = q->head;
		q->head = c->next;
		if (!q->head)
			q->tail = NULL;
		c->next = NULL;
	}
	pthread_mutex_unlock(&q->flow->lock);
	return c;
}

void chunk_queue_drain(struct chunk_queue *q)
{
	while (q->head) {
		struct chunk *c = q->head;
		q->head = c->next;
		c->next = c->home->free_list;
		c->home->free_list = c;
	}
	q->tail = NULL;
}
