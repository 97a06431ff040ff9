/*
 * mock_proc.c — see mock_proc.h.
 */
#include "mock_proc.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_LIVE 16
static pid_t g_live[MAX_LIVE];

static void kill_all(void) {
  int i;
  for (i = 0; i < MAX_LIVE; i++)
    if (g_live[i] > 0) {
      kill(g_live[i], SIGKILL);
      waitpid(g_live[i], NULL, 0);
      g_live[i] = 0;
    }
}

static void track(pid_t pid, int add) {
  static int registered;
  int i;
  if (!registered) {
    atexit(kill_all);
    registered = 1;
  }
  for (i = 0; i < MAX_LIVE; i++) {
    if (add && g_live[i] == 0) {
      g_live[i] = pid;
      return;
    }
    if (!add && g_live[i] == pid) {
      g_live[i] = 0;
      return;
    }
  }
}

int mock_start(mock_proc *m, const char *mock_bin, const char *scenario_json,
               const char *const *extra_args) {
  char path[320], out[320], line[256];
  const char *argv[32];
  int n = 0, i;
  FILE *f;
  memset(m, 0, sizeof *m);
  snprintf(m->dir, sizeof m->dir, "/tmp/rill-mock-XXXXXX");
  if (!mkdtemp(m->dir)) {
    perror("mkdtemp");
    return -1;
  }
  snprintf(path, sizeof path, "%s/scenario.json", m->dir);
  f = fopen(path, "w");
  if (!f || fputs(scenario_json, f) < 0 || fclose(f) != 0) {
    perror(path);
    return -1;
  }
  argv[n++] = mock_bin;
  argv[n++] = "--port";
  argv[n++] = "0";
  for (i = 0; extra_args && extra_args[i] && n < 29; i++)
    argv[n++] = extra_args[i];
  argv[n++] = path;
  argv[n] = NULL;
  /* The mock's stdout goes to a file (it may print more than the port
   * line; a closed pipe would kill it with SIGPIPE). */
  snprintf(out, sizeof out, "%s/stdout", m->dir);
  m->pid = fork();
  if (m->pid < 0)
    return -1;
  if (m->pid == 0) {
    FILE *o = freopen(out, "w", stdout);
    (void)o;
    execv(mock_bin, (char *const *)(void *)argv);
    _exit(127);
  }
  track(m->pid, 1);
  line[0] = '\0';
  for (i = 0; i < 1000; i++) { /* up to ~10 s for the port line */
    f = fopen(out, "r");
    if (f) {
      int got = fgets(line, sizeof line, f) && strchr(line, '\n');
      fclose(f);
      if (got)
        break;
    }
    if (waitpid(m->pid, NULL, WNOHANG) == m->pid) {
      track(m->pid, 0);
      m->pid = 0;
      break;
    }
    usleep(10000);
  }
  if (!strchr(line, '\n')) {
    fprintf(stderr, "mock_start: %s printed no port line\n", mock_bin);
    mock_stop(m);
    return -1;
  }
  {
    const char *p = strstr(line, "\"port\":");
    if (!p || (m->port = atoi(p + 7)) <= 0) {
      fprintf(stderr, "mock_start: bad port line: %s", line);
      mock_stop(m);
      return -1;
    }
  }
  snprintf(m->base, sizeof m->base, "%s://127.0.0.1:%d",
           strstr(line, "\"tls\":true") ? "https" : "http", m->port);
  return 0;
}

void mock_stop(mock_proc *m) {
  char cmd[300];
  if (m->pid > 0) {
    kill(m->pid, SIGTERM);
    waitpid(m->pid, NULL, 0);
    track(m->pid, 0);
    m->pid = 0;
  }
  if (m->dir[0]) {
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", m->dir);
    if (system(cmd) != 0)
      fprintf(stderr, "mock_stop: could not remove %s\n", m->dir);
    m->dir[0] = '\0';
  }
}

typedef struct grow {
  char *p;
  size_t n;
} grow;

static size_t on_body(char *d, size_t sz, size_t nm, void *u) {
  grow *g = u;
  size_t n = sz * nm;
  char *np = realloc(g->p, g->n + n + 1);
  if (!np)
    return 0;
  g->p = np;
  memcpy(g->p + g->n, d, n);
  g->n += n;
  g->p[g->n] = '\0';
  return n;
}

char *mock_get(const mock_proc *m, const char *path) {
  char url[512];
  grow g = {NULL, 0};
  CURL *h = curl_easy_init();
  CURLcode rc;
  if (!h)
    return NULL;
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", m->port, path);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &g);
  rc = curl_easy_perform(h);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) {
    free(g.p);
    return NULL;
  }
  if (!g.p)
    g.p = calloc(1, 1);
  return g.p;
}
