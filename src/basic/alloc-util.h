/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Growing arrays one element at a time. */
#pragma once

#include <stddef.h>

/* Make room for element number n (counting from 0) in the array *p, which has room for *cap
 * elements of size bytes each: when n == *cap the array is reallocated to twice its size (16
 * elements at first). 0; or -ENOMEM, when memory ran out or the size would overflow, and then
 * *p and *cap are as they were, so the caller still owns (and frees) the old array. */
int array_reserve(void **p, size_t *cap, size_t n, size_t size);

/* The same for a typed pointer: ARRAY_RESERVE(list->items, list->cap, list->n). */
#define ARRAY_RESERVE(p, cap, n) array_reserve((void **)&(p), &(cap), (n), sizeof(*(p)))
