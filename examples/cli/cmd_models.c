/*
 * cmd_models.c — `rill models` and `rill pull`.
 *
 *   rill models --provider P [--url BASE] [--json] [--loaded]
 *   rill pull [--url BASE] [--json] NAME
 *
 * models: one model name per line, or one JSON object per model; --loaded
 * lists the models Ollama has in memory (/api/ps). pull: downloads an
 * Ollama model with a progress bar on stderr (a line per status when
 * stderr is not a terminal), or one JSON object per progress line.
 * Public headers only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rill/rill.h"

typedef struct list_out {
  int json;
  rill_jw *w;
  size_t n;
} list_out;

static void str_field(rill_jw *w, const char *key, const char *v) {
  if (!v || !*v)
    return;
  rill_jw_key(w, key, strlen(key));
  rill_jw_string(w, v, strlen(v));
}

static void int_field(rill_jw *w, const char *key, int64_t v) {
  if (v < 0)
    return;
  rill_jw_key(w, key, strlen(key));
  rill_jw_int(w, v);
}

static int on_model(void *user, const rill_model_info *m) {
  list_out *o = user;
  size_t len;
  const char *s;
  o->n++;
  if (!o->json) {
    printf("%s\n", m->name);
    return 0;
  }
  rill_jw_reset(o->w);
  rill_jw_object_begin(o->w);
  str_field(o->w, "name", m->name);
  int_field(o->w, "size", m->size);
  str_field(o->w, "modified_at", m->modified_at);
  str_field(o->w, "digest", m->digest);
  str_field(o->w, "family", m->family);
  str_field(o->w, "parameter_size", m->parameter_size);
  str_field(o->w, "quantization", m->quantization);
  str_field(o->w, "owned_by", m->owned_by);
  int_field(o->w, "size_vram", m->size_vram);
  str_field(o->w, "expires_at", m->expires_at);
  rill_jw_object_end(o->w);
  s = rill_jw_data(o->w, &len);
  fwrite(s, 1, len, stdout);
  putchar('\n');
  return 0;
}

static int common_opts(int argc, char **argv, int *i, rill_endpoint *ep,
                       int *json, int *loaded) {
  const char *a = argv[*i];
  const char *next = *i + 1 < argc ? argv[*i + 1] : NULL;
  if (strcmp(a, "--json") == 0) {
    *json = 1;
    return 1;
  }
  if (loaded && strcmp(a, "--loaded") == 0) {
    *loaded = 1;
    return 1;
  }
  if ((strcmp(a, "--url") == 0 || strcmp(a, "--provider") == 0) && next) {
    (*i)++;
    if (a[2] == 'u') {
      ep->base_url = next;
    } else {
      ep->provider = rill_provider_from_name(next);
      if (ep->provider == RILL_PROVIDER_NONE)
        return -1;
    }
    return 1;
  }
  return 0;
}

int cmd_models(int argc, char **argv) {
  rill_endpoint ep;
  rill_client_opts copts = RILL_CLIENT_OPTS_INIT;
  rill_client *c = NULL;
  list_out o = {0, NULL, 0};
  int i, loaded = 0, rc;
  char msg[512] = "";
  memset(&ep, 0, sizeof ep);
  ep.provider = RILL_PROVIDER_OLLAMA;
  for (i = 1; i < argc; i++) {
    int r = common_opts(argc, argv, &i, &ep, &o.json, &loaded);
    if (r <= 0) {
      fputs("usage: rill models [--provider P] [--url BASE] [--json] "
            "[--loaded]\n", stderr);
      return CLI_USAGE;
    }
  }
  if (loaded && ep.provider != RILL_PROVIDER_OLLAMA) {
    fputs("rill models: --loaded is for --provider ollama\n", stderr);
    return CLI_USAGE;
  }
  if ((o.json && rill_jw_new(&o.w, 0) != RILL_OK) ||
      rill_client_new(&c, &copts) != RILL_OK) {
    rill_jw_free(o.w);
    return CLI_RUNTIME;
  }
  rc = loaded ? rill_ollama_ps(c, &ep, NULL, on_model, &o, msg, sizeof msg)
              : rill_models(c, &ep, NULL, on_model, &o, msg, sizeof msg);
  fflush(stdout);
  if (rc != RILL_OK)
    fprintf(stderr, "rill models: %s\n", *msg ? msg : rill_strerror(rc));
  rill_client_free(c);
  rill_jw_free(o.w);
  return rc == RILL_OK ? CLI_OK : CLI_RUNTIME;
}

typedef struct pull_out {
  int json;
  int tty;
  rill_jw *w;
  char last_status[128];
} pull_out;

static int on_progress(void *user, const rill_pull_progress *p) {
  pull_out *o = user;
  if (o->json) {
    size_t len;
    const char *s;
    rill_jw_reset(o->w);
    rill_jw_object_begin(o->w);
    str_field(o->w, "status", p->status);
    str_field(o->w, "digest", p->digest);
    int_field(o->w, "completed", p->completed);
    int_field(o->w, "total", p->total);
    rill_jw_object_end(o->w);
    s = rill_jw_data(o->w, &len);
    fwrite(s, 1, len, stdout);
    putchar('\n');
    fflush(stdout);
    return 0;
  }
  if (o->tty && p->total > 0 && p->completed >= 0) {
    int width = 30, filled = (int)((double)p->completed / (double)p->total * width);
    int k;
    if (filled > width)
      filled = width;
    fprintf(stderr, "\r%-24.24s [", p->status);
    for (k = 0; k < width; k++)
      fputc(k < filled ? '#' : ' ', stderr);
    fprintf(stderr, "] %5.1f%% of %.1f MB", 100.0 * (double)p->completed / (double)p->total,
            (double)p->total / 1e6);
    return 0;
  }
  if (strcmp(p->status, o->last_status) != 0) {
    if (o->tty)
      fputc('\n', stderr);
    fprintf(stderr, "%s\n", p->status);
    snprintf(o->last_status, sizeof o->last_status, "%s", p->status);
  }
  return 0;
}

int cmd_pull(int argc, char **argv) {
  rill_endpoint ep;
  rill_client_opts copts = RILL_CLIENT_OPTS_INIT;
  rill_client *c = NULL;
  pull_out o;
  const char *name = NULL;
  int i, rc;
  char msg[512] = "";
  memset(&ep, 0, sizeof ep);
  memset(&o, 0, sizeof o);
  ep.provider = RILL_PROVIDER_OLLAMA;
  for (i = 1; i < argc; i++) {
    int r = common_opts(argc, argv, &i, &ep, &o.json, NULL);
    if (r < 0 || (r == 0 && (argv[i][0] == '-' || name))) {
      fputs("usage: rill pull [--url BASE] [--json] NAME\n", stderr);
      return CLI_USAGE;
    }
    if (r == 0)
      name = argv[i];
  }
  if (!name || ep.provider != RILL_PROVIDER_OLLAMA) {
    fputs("usage: rill pull [--url BASE] [--json] NAME (Ollama only)\n", stderr);
    return CLI_USAGE;
  }
  o.tty = isatty(STDERR_FILENO);
  if ((o.json && rill_jw_new(&o.w, 0) != RILL_OK) ||
      rill_client_new(&c, &copts) != RILL_OK) {
    rill_jw_free(o.w);
    return CLI_RUNTIME;
  }
  rc = rill_ollama_pull(c, &ep, name, on_progress, &o, msg, sizeof msg);
  if (o.tty && !o.json)
    fputc('\n', stderr);
  if (rc != RILL_OK)
    fprintf(stderr, "rill pull: %s\n", *msg ? msg : rill_strerror(rc));
  rill_client_free(c);
  rill_jw_free(o.w);
  return rc == RILL_OK ? CLI_OK : CLI_RUNTIME;
}
