/*
 * The embedder's worker pool (see threadpool.h).
 *
 * Jobs live on their callers' stacks and are linked into the pool's list
 * while they may still hand out tasks. The lock protects the list and each
 * job's `active` count of workers inside it; task indices are claimed with
 * an atomic counter, outside the lock. A caller that has run out of tasks
 * unlinks its job (no worker can enter it afterwards) and waits until
 * `active` is zero: then every task has finished and no worker will touch
 * the job again, so it may leave the stack frame.
 *
 * Why spin, and how long: a forward pass posts about ten jobs per layer,
 * a few hundred microseconds apart on a real model. Waking a thread from
 * a condition variable costs tens of microseconds, which would add a few
 * percent; spinning for a bounded time (SPIN_ROUNDS pause instructions,
 * tens of microseconds) keeps workers hot between the jobs of one call, and the
 * condition variable keeps an idle handle at zero CPU.
 */
#include "embed/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/alloc.h"
#include "rill/error.h"

#ifndef SPIN_ROUNDS
#define SPIN_ROUNDS 2000
#endif

typedef struct job {
  rill__task_fn fn;
  void *ctx;
  size_t n;
  atomic_size_t next;  /* next task index to hand out; may pass n */
  atomic_int active;   /* workers inside the job (changed under the lock) */
  struct job *link;    /* the pool's list, while linked */
} job;

struct rill__tpool {
  pthread_mutex_t mu;
  pthread_cond_t work_cv; /* a job was posted, or stop */
  pthread_cond_t done_cv; /* a job's active count fell to zero */
  job *jobs;              /* posted jobs that may still have tasks */
  atomic_uint gen;        /* bumped at each post: what spinners watch */
  int idle;               /* workers waiting on work_cv */
  int stop;
  int n_workers;          /* threads actually started */
  pthread_t *threads;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* A linked job with tasks left, or NULL. Under the lock. */
static job *pick(rill__tpool *p) {
  job *j;
  for (j = p->jobs; j; j = j->link)
    if (atomic_load_explicit(&j->next, memory_order_relaxed) < j->n)
      return j;
  return NULL;
}

static void drain(job *j) {
  size_t i;
  while ((i = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) <
         j->n)
    j->fn(j->ctx, i);
}

static void *worker(void *arg) {
  rill__tpool *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    job *j;
    if (p->stop)
      break;
    j = pick(p);
    if (!j) {
      unsigned g = atomic_load_explicit(&p->gen, memory_order_relaxed);
      int k;
      pthread_mutex_unlock(&p->mu);
      for (k = 0; k < SPIN_ROUNDS; k++) {
        if (atomic_load_explicit(&p->gen, memory_order_relaxed) != g)
          break;
        cpu_relax();
      }
      pthread_mutex_lock(&p->mu);
      /* A post between the check above and now bumped gen: look again
       * rather than sleep through it. */
      if (atomic_load_explicit(&p->gen, memory_order_relaxed) != g || p->stop)
        continue;
      p->idle++;
      pthread_cond_wait(&p->work_cv, &p->mu);
      p->idle--;
      continue;
    }
    atomic_fetch_add_explicit(&j->active, 1, memory_order_relaxed);
    pthread_mutex_unlock(&p->mu);
    drain(j);
    pthread_mutex_lock(&p->mu);
    /* The last touch of j: its owner may return as soon as it sees 0. */
    if (atomic_fetch_sub_explicit(&j->active, 1, memory_order_release) == 1)
      pthread_cond_broadcast(&p->done_cv);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int rill__tpool_new(rill__tpool **out, int n_threads) {
  rill__tpool *p;
  int i;
  *out = NULL;
  if (n_threads < 1)
    n_threads = 1;
  p = rill__calloc(1, sizeof *p);
  if (!p)
    return RILL_E_NOMEM;
  if (n_threads > 1) {
    p->threads = rill__calloc((size_t)(n_threads - 1), sizeof *p->threads);
    if (!p->threads) {
      rill__free(p);
      return RILL_E_NOMEM;
    }
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work_cv, NULL);
  pthread_cond_init(&p->done_cv, NULL);
  atomic_init(&p->gen, 0u);
  for (i = 0; i < n_threads - 1; i++) {
    if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
      rill__tpool_free(p);
      return RILL_E_INTERNAL;
    }
    p->n_workers++;
  }
  *out = p;
  return RILL_OK;
}

void rill__tpool_free(rill__tpool *p) {
  int i;
  if (!p)
    return;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  atomic_fetch_add_explicit(&p->gen, 1u, memory_order_relaxed);
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
  for (i = 0; i < p->n_workers; i++)
    pthread_join(p->threads[i], NULL);
  pthread_cond_destroy(&p->done_cv);
  pthread_cond_destroy(&p->work_cv);
  pthread_mutex_destroy(&p->mu);
  rill__free(p->threads);
  rill__free(p);
}

int rill__tpool_threads(const rill__tpool *p) { return p->n_workers + 1; }

void rill__tpool_run(rill__tpool *p, size_t n, rill__task_fn fn, void *ctx) {
  job j, **pp;
  int k;
  if (n == 0)
    return;
  if (n == 1 || p->n_workers == 0) {
    size_t i;
    for (i = 0; i < n; i++)
      fn(ctx, i);
    return;
  }
  j.fn = fn;
  j.ctx = ctx;
  j.n = n;
  atomic_init(&j.next, 0);
  atomic_init(&j.active, 0);
  pthread_mutex_lock(&p->mu);
  j.link = p->jobs;
  /* j lives on this stack for the whole job (no allocation per run): it is
   * unlinked below, under p->mu, and this frame then waits until no
   * worker is still inside it (j.active == 0) before returning. */
  /* cppcheck-suppress autoVariables */
  p->jobs = &j;
  atomic_fetch_add_explicit(&p->gen, 1u, memory_order_relaxed);
  if (p->idle > 0)
    pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);

  drain(&j);

  pthread_mutex_lock(&p->mu);
  for (pp = &p->jobs; *pp != &j; pp = &(*pp)->link)
    ;
  *pp = j.link;
  pthread_mutex_unlock(&p->mu);
  /* Workers still inside are finishing their last task: usually a few
   * microseconds, so spin before sleeping. */
  for (k = 0; k < SPIN_ROUNDS; k++) {
    if (atomic_load_explicit(&j.active, memory_order_acquire) == 0)
      return;
    cpu_relax();
  }
  pthread_mutex_lock(&p->mu);
  while (atomic_load_explicit(&j.active, memory_order_acquire) != 0)
    pthread_cond_wait(&p->done_cv, &p->mu);
  pthread_mutex_unlock(&p->mu);
}
