/*
 * The embedder's worker pool: n_threads - 1 workers created at open and
 * shared by every call on the handle, the calling thread being the last
 * worker of its own job.
 *
 * A job is a parallel-for over task indices 0..n-1. Several threads may run
 * jobs on one pool at once: workers take tasks from whichever jobs are
 * posted, and each caller waits only for its own job's tasks. Idle workers
 * spin briefly (a forward pass posts a job every few hundred microseconds)
 * and then sleep on a condition variable, so an idle handle burns no CPU.
 */
#ifndef RILL_EMBED_THREADPOOL_H
#define RILL_EMBED_THREADPOOL_H

#include <stddef.h>

typedef struct rill__tpool rill__tpool;

/* A task: run task i of the job described by ctx. */
typedef void (*rill__task_fn)(void *ctx, size_t i);

/* n_threads >= 1 (1: no workers, every job runs on the caller). Returns
 * RILL_OK, RILL_E_NOMEM, RILL_E_INTERNAL (a thread could not start). */
int rill__tpool_new(rill__tpool **out, int n_threads);

/* Joins the workers. No job may be running. NULL is a no-op. */
void rill__tpool_free(rill__tpool *p);

int rill__tpool_threads(const rill__tpool *p);

/* Run fn(ctx, i) for i in 0..n-1 on the pool and the calling thread;
 * returns when all n have finished. Any thread; allocates nothing. */
void rill__tpool_run(rill__tpool *p, size_t n, rill__task_fn fn, void *ctx);

#endif
