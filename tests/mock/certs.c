/*
 * certs.c — rill-mock-certs DIR: a throw-away PKI for TLS tests.
 *
 * Writes, with fresh EC P-256 keys (SHA-256 signatures):
 *   ca.pem, ca.key                 the test CA (CA:TRUE, keyCertSign)
 *   server.pem, server.key         CN=127.0.0.1, SAN IP:127.0.0.1 and
 *                                  DNS:localhost, signed by the CA
 *   wrong-host.pem, wrong-host.key SAN DNS:example.invalid only, by the CA
 *   expired.pem, expired.key       as server, valid 2020-01-01..2021-01-01
 *   self-signed.pem, self-signed.key  as server but issued by itself
 *   other-ca.pem, other-ca.key     a second CA, never given to a client
 *   unknown-ca.pem, unknown-ca.key as server but issued by other-ca: a
 *                                  valid chain to a CA nobody trusts
 * Keys are PEM (SEC1 "EC PRIVATE KEY"), mode 0600. Nothing here is secret:
 * the files exist for one test run.
 *
 * mbedtls 2.28's certificate writer has no subjectAltName helper, so the
 * extension is DER-encoded here (RFC 5280 4.2.1.6):
 *   SubjectAltName ::= SEQUENCE OF GeneralName
 *   GeneralName ::= [2] IMPLICIT IA5String (dNSName) | [7] IMPLICIT OCTET
 *                   STRING (iPAddress, 4 bytes for IPv4) | ...
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

static mbedtls_entropy_context g_entropy;
static mbedtls_ctr_drbg_context g_drbg;
static const char *g_dir;

static int report(const char *what, int rc) {
  char msg[160];
  mbedtls_strerror(rc, msg, sizeof msg);
  fprintf(stderr, "rill-mock-certs: %s: %s (-0x%04x)\n", what, msg,
          (unsigned)-rc);
  return -1;
}

static int write_file(const char *name, const unsigned char *data,
                      size_t len, int secret) {
  char path[4096];
  int fd;
  ssize_t n;
  snprintf(path, sizeof path, "%s/%s", g_dir, name);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
            secret ? 0600 : 0644);
  if (fd < 0) {
    perror(path);
    return -1;
  }
  n = write(fd, data, len);
  if (close(fd) != 0 || n != (ssize_t)len) {
    perror(path);
    return -1;
  }
  return 0;
}

static int new_key(mbedtls_pk_context *key, const char *file) {
  unsigned char pem[2048];
  int rc;
  mbedtls_pk_init(key);
  if ((rc = mbedtls_pk_setup(key,
                             mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) ||
      (rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key),
                                mbedtls_ctr_drbg_random, &g_drbg)) ||
      (rc = mbedtls_pk_write_key_pem(key, pem, sizeof pem)))
    return report("key", rc);
  return write_file(file, pem, strlen((char *)pem), 1);
}

/* DER of a SubjectAltName with an optional IPv4 address and one DNS name,
 * written backwards from the end of buf (mbedtls_asn1_write_* style).
 * Returns the length; *start receives where it begins. */
static int san_der(unsigned char *buf, size_t size, const unsigned char *ip4,
                   const char *dns, unsigned char **start) {
  unsigned char *p = buf + size;
  int len = 0, rc;
#define W(call)              \
  do {                       \
    if ((rc = (call)) < 0)   \
      return rc;             \
    len += rc;               \
  } while (0)
  if (dns) {
    int n = 0;
    if ((rc = mbedtls_asn1_write_raw_buffer(
             &p, buf, (const unsigned char *)dns, strlen(dns))) < 0)
      return rc;
    n += rc;
    if ((rc = mbedtls_asn1_write_len(&p, buf, (size_t)n)) < 0)
      return rc;
    n += rc;
    if ((rc = mbedtls_asn1_write_tag(&p, buf,
                                     MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)) < 0)
      return rc;
    n += rc;
    len += n;
  }
  if (ip4) {
    int n = 0;
    if ((rc = mbedtls_asn1_write_raw_buffer(&p, buf, ip4, 4)) < 0)
      return rc;
    n += rc;
    if ((rc = mbedtls_asn1_write_len(&p, buf, 4)) < 0)
      return rc;
    n += rc;
    if ((rc = mbedtls_asn1_write_tag(&p, buf,
                                     MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)) < 0)
      return rc;
    n += rc;
    len += n;
  }
  W(mbedtls_asn1_write_len(&p, buf, (size_t)len));
  W(mbedtls_asn1_write_tag(&p, buf,
                           MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
#undef W
  *start = p;
  return len;
}

typedef struct cert_spec {
  const char *file;
  const char *subject;
  int serial;
  int is_ca;
  const char *not_before, *not_after;
  int ip;            /* SAN IP 127.0.0.1 */
  const char *dns;   /* SAN DNS name, or NULL */
} cert_spec;

static int issue(const cert_spec *s, mbedtls_pk_context *subject_key,
                 mbedtls_pk_context *issuer_key, const char *issuer_name) {
  static const unsigned char lo[4] = {127, 0, 0, 1};
  mbedtls_x509write_cert crt;
  mbedtls_mpi serial;
  unsigned char pem[4096], san[256], *p = NULL;
  int rc, len;
  mbedtls_x509write_crt_init(&crt);
  mbedtls_mpi_init(&serial);
  mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&crt, subject_key);
  mbedtls_x509write_crt_set_issuer_key(&crt, issuer_key);
  if ((rc = mbedtls_mpi_lset(&serial, s->serial)) ||
      (rc = mbedtls_x509write_crt_set_serial(&crt, &serial)) ||
      (rc = mbedtls_x509write_crt_set_subject_name(&crt, s->subject)) ||
      (rc = mbedtls_x509write_crt_set_issuer_name(&crt, issuer_name)) ||
      (rc = mbedtls_x509write_crt_set_validity(&crt, s->not_before,
                                               s->not_after)) ||
      (rc = mbedtls_x509write_crt_set_basic_constraints(&crt, s->is_ca,
                                                        s->is_ca ? 0 : -1)) ||
      (rc = mbedtls_x509write_crt_set_subject_key_identifier(&crt)) ||
      (rc = mbedtls_x509write_crt_set_authority_key_identifier(&crt)) ||
      (rc = mbedtls_x509write_crt_set_key_usage(
           &crt, s->is_ca ? MBEDTLS_X509_KU_KEY_CERT_SIGN |
                                MBEDTLS_X509_KU_CRL_SIGN
                          : MBEDTLS_X509_KU_DIGITAL_SIGNATURE)))
    goto out;
  if (!s->is_ca) {
    len = san_der(san, sizeof san, s->ip ? lo : NULL, s->dns, &p);
    if (len < 0) {
      rc = len;
      goto out;
    }
    if ((rc = mbedtls_x509write_crt_set_extension(
             &crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
             MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, p,
             (size_t)len)))
      goto out;
  }
  rc = mbedtls_x509write_crt_pem(&crt, pem, sizeof pem,
                                 mbedtls_ctr_drbg_random, &g_drbg);
out:
  mbedtls_x509write_crt_free(&crt);
  mbedtls_mpi_free(&serial);
  if (rc)
    return report(s->file, rc);
  return write_file(s->file, pem, strlen((char *)pem), 0);
}

int main(int argc, char **argv) {
  static const char ca_name[] = "CN=rill test CA,O=rill";
  static const char leaf[] = "CN=127.0.0.1,O=rill";
  static const char other_name[] = "CN=rill untrusted CA,O=elsewhere";
  mbedtls_pk_context ca, server, wrong, expired, self, other, unknown;
  int rc, ok = 0;
  struct stat st;
  if (argc != 2 || !strcmp(argv[1], "--help")) {
    fputs("usage: rill-mock-certs DIR\n"
          "Writes ca.pem/ca.key, server.pem/server.key, wrong-host.*, "
          "expired.*, self-signed.*, other-ca.*, unknown-ca.* (EC P-256)\n"
          "into DIR.\n",
          argc == 2 ? stdout : stderr);
    return argc == 2 ? 0 : 2;
  }
  g_dir = argv[1];
  if (stat(g_dir, &st) != 0 && mkdir(g_dir, 0700) != 0) {
    perror(g_dir);
    return 1;
  }
  mbedtls_entropy_init(&g_entropy);
  mbedtls_ctr_drbg_init(&g_drbg);
  mbedtls_pk_init(&ca);
  mbedtls_pk_init(&server);
  mbedtls_pk_init(&wrong);
  mbedtls_pk_init(&expired);
  mbedtls_pk_init(&self);
  mbedtls_pk_init(&other);
  mbedtls_pk_init(&unknown);
  if ((rc = mbedtls_ctr_drbg_seed(&g_drbg, mbedtls_entropy_func, &g_entropy,
                                  (const unsigned char *)"rill-mock-certs",
                                  15))) {
    report("seed", rc);
    goto done;
  }
  {
    const cert_spec ca_s = {"ca.pem", ca_name, 1, 1, "20240101000000",
                            "20991231235959", 0, NULL};
    const cert_spec srv = {"server.pem", leaf, 2, 0, "20240101000000",
                           "20991231235959", 1, "localhost"};
    const cert_spec wr = {"wrong-host.pem", "CN=example.invalid,O=rill", 3, 0,
                          "20240101000000", "20991231235959", 0,
                          "example.invalid"};
    const cert_spec ex = {"expired.pem", leaf, 4, 0, "20200101000000",
                          "20210101000000", 1, "localhost"};
    const cert_spec ss = {"self-signed.pem", leaf, 5, 0, "20240101000000",
                          "20991231235959", 1, "localhost"};
    const cert_spec oc = {"other-ca.pem", other_name, 6, 1, "20240101000000",
                          "20991231235959", 0, NULL};
    const cert_spec uk = {"unknown-ca.pem", leaf, 7, 0, "20240101000000",
                          "20991231235959", 1, "localhost"};
    if (new_key(&ca, "ca.key") || new_key(&server, "server.key") ||
        new_key(&wrong, "wrong-host.key") ||
        new_key(&expired, "expired.key") ||
        new_key(&self, "self-signed.key") ||
        issue(&ca_s, &ca, &ca, ca_name) ||
        issue(&srv, &server, &ca, ca_name) ||
        issue(&wr, &wrong, &ca, ca_name) ||
        issue(&ex, &expired, &ca, ca_name) ||
        issue(&ss, &self, &self, leaf) ||
        new_key(&other, "other-ca.key") ||
        new_key(&unknown, "unknown-ca.key") ||
        issue(&oc, &other, &other, other_name) ||
        issue(&uk, &unknown, &other, other_name))
      goto done;
  }
  ok = 1;
done:
  mbedtls_pk_free(&ca);
  mbedtls_pk_free(&server);
  mbedtls_pk_free(&wrong);
  mbedtls_pk_free(&expired);
  mbedtls_pk_free(&self);
  mbedtls_pk_free(&other);
  mbedtls_pk_free(&unknown);
  mbedtls_ctr_drbg_free(&g_drbg);
  mbedtls_entropy_free(&g_entropy);
  return ok ? 0 : 1;
}
