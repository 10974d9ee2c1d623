/*
 * wsscope_tls: TLS record AEAD decryption for engine/tls/aead.ts, a Node-API addon in plain C.
 *
 * Why: node:crypto's AEAD deciphers take their nonce at creation, so decrypting a capture
 * costs one createDecipheriv (cipher fetch, key schedule, object) and one fresh output
 * Buffer per TLS record. This addon keeps one EVP_CIPHER_CTX per key with its key schedule
 * done once, sets only the nonce per record, and writes the plaintext into a buffer the
 * caller lends (reused record after record). On the benchmark capture that is the difference
 * between ~0.55 GB/s and the several GB/s OpenSSL reaches (docs/benchmarks.md).
 *
 * Contract (all buffers are Uint8Arrays, including Node Buffers):
 *   aeadNew(kind, key) -> External
 *       kind 0 AES-128-GCM (16-byte key), 1 AES-256-GCM (32), 2 ChaCha20-Poly1305 (32):
 *       RFC 5288 / RFC 8446 section 5.2 / RFC 7905. The key is copied into OpenSSL's context;
 *       the context is freed (and its key cleansed) when the External is collected.
 *   aeadOpen(ctx, nonce, aad, src, off, len, out) -> number
 *       The record body is src[off, off + len): ciphertext || 16-byte tag; nonce 12 bytes.
 *       Writes the plaintext to out[0, n) and returns n (len - 16), or -1 when the record does
 *       not authenticate (then out[0, n) is zeroed: no unauthenticated byte is left behind).
 *       out must not overlap the body and must hold n bytes. Nothing is kept of the
 *       arguments. (The body is given by offset, not as a view, so that a record costs the
 *       caller no object.)
 * Bad arguments throw a TypeError (a bug in the caller, never a property of the capture).
 *
 * OpenSSL: no link-time dependency. On load the addon takes the EVP functions from the
 * process when it exports an OpenSSL 3 (Node links OpenSSL statically and exports it: no
 * second copy is mapped), else from the system's libcrypto.so.3 (Electron, whose BoringSSL
 * exports nothing), all from the one place, so contexts never cross two libraries. Node-API
 * keeps the binary ABI-stable, so one build loads in Node and in Electron's utility process.
 * `openssl` says which library serves and its version; WSSCOPE_TLS_LIBCRYPTO=system in the
 * environment skips the process's copy (how the tests exercise Electron's path under Node).
 * Without an OpenSSL 3 the exports are there but aeadNew throws (the caller falls back).
 * Errors OpenSSL queues on a failed tag check are cleared, so they never surface in a later,
 * unrelated node:crypto call of the same thread.
 *
 * Secrets: keys live only in the EVP context; nothing here logs or formats them.
 */
#define NAPI_VERSION 8
#include <dlfcn.h>
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define TAG_LEN 16
#define NONCE_LEN 12

/* the OpenSSL 3 functions used, all from one library (set once, read-only afterwards) */
static struct {
  unsigned long (*version_num)(void);
  const char *(*version)(int);
  EVP_CIPHER_CTX *(*ctx_new)(void);
  void (*ctx_free)(EVP_CIPHER_CTX *);
  int (*ctx_ctrl)(EVP_CIPHER_CTX *, int, int, void *);
  int (*init)(EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *, const unsigned char *, const unsigned char *);
  int (*update)(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int);
  int (*final)(EVP_CIPHER_CTX *, unsigned char *, int *);
  const EVP_CIPHER *(*aes_128_gcm)(void);
  const EVP_CIPHER *(*aes_256_gcm)(void);
  const EVP_CIPHER *(*chacha20_poly1305)(void);
  void (*cleanse)(void *, size_t);
  void (*err_clear)(void);
} ossl;
/* "process" or the library's file name; NULL when no OpenSSL 3 was found */
static const char *ossl_from;
static pthread_once_t ossl_once = PTHREAD_ONCE_INIT;

/* every function from handle h; 0 when one is missing or the library is not OpenSSL 3 */
static int ossl_take(void *h) {
#define TAKE(field, name) \
  if ((*(void **)&ossl.field = dlsym(h, name)) == NULL) return 0;
  TAKE(version_num, "OpenSSL_version_num")
  TAKE(version, "OpenSSL_version")
  TAKE(ctx_new, "EVP_CIPHER_CTX_new")
  TAKE(ctx_free, "EVP_CIPHER_CTX_free")
  TAKE(ctx_ctrl, "EVP_CIPHER_CTX_ctrl")
  TAKE(init, "EVP_DecryptInit_ex")
  TAKE(update, "EVP_DecryptUpdate")
  TAKE(final, "EVP_DecryptFinal_ex")
  TAKE(aes_128_gcm, "EVP_aes_128_gcm")
  TAKE(aes_256_gcm, "EVP_aes_256_gcm")
  TAKE(chacha20_poly1305, "EVP_chacha20_poly1305")
  TAKE(cleanse, "OPENSSL_cleanse")
  TAKE(err_clear, "ERR_clear_error")
#undef TAKE
  /* 3.x keeps the 3.0 ABI (BoringSSL and 1.1 report older numbers) */
  return ossl.version_num() >= 0x30000000UL;
}

static void ossl_load(void) {
  static const char *libs[] = {"libcrypto.so.3", "libcrypto.3.dylib"};
  const char *only = getenv("WSSCOPE_TLS_LIBCRYPTO");
  size_t i;
  if ((only == NULL || strcmp(only, "system") != 0) && ossl_take(RTLD_DEFAULT)) {
    ossl_from = "process";
    return;
  }
  for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
    void *h = dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) continue;
    if (ossl_take(h)) {
      ossl_from = libs[i];
      return;
    }
    dlclose(h);
  }
  memset(&ossl, 0, sizeof(ossl));
}

static void ctx_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  ossl.ctx_free((EVP_CIPHER_CTX *)data);
}

/* the bytes of argument v (a TypedArray of bytes); 0 and a pending TypeError if it is not */
static int bytes_of(napi_env env, napi_value v, unsigned char **p, size_t *n) {
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  void *data;
  if (napi_get_typedarray_info(env, v, &t, n, &data, &ab, &off) != napi_ok || t != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "wsscope_tls: a Uint8Array was expected");
    return 0;
  }
  *p = (unsigned char *)data;
  return 1;
}

static napi_value aead_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t kind;
  unsigned char *key;
  size_t key_len;
  const EVP_CIPHER *cipher;
  size_t want;
  EVP_CIPHER_CTX *ctx;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return NULL;
  if (napi_get_value_int32(env, argv[0], &kind) != napi_ok) {
    napi_throw_type_error(env, NULL, "wsscope_tls: kind must be a number");
    return NULL;
  }
  if (!bytes_of(env, argv[1], &key, &key_len)) return NULL;
  if (ossl_from == NULL) {
    napi_throw_error(env, NULL, "wsscope_tls: no OpenSSL 3 in the process or as libcrypto.so.3");
    return NULL;
  }
  switch (kind) {
    case 0: cipher = ossl.aes_128_gcm(); want = 16; break;
    case 1: cipher = ossl.aes_256_gcm(); want = 32; break;
    case 2: cipher = ossl.chacha20_poly1305(); want = 32; break;
    default:
      napi_throw_type_error(env, NULL, "wsscope_tls: unknown AEAD");
      return NULL;
  }
  if (key_len != want) {
    napi_throw_type_error(env, NULL, "wsscope_tls: wrong key length");
    return NULL;
  }
  ctx = ossl.ctx_new();
  /* the key schedule once; each record then sets only its nonce (RFC 5116 section 3: one key, many nonces) */
  if (ctx == NULL || ossl.init(ctx, cipher, NULL, NULL, NULL) != 1 ||
      ossl.ctx_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
      ossl.init(ctx, NULL, NULL, key, NULL) != 1) {
    ossl.ctx_free(ctx);
    ossl.err_clear();
    napi_throw_error(env, NULL, "wsscope_tls: OpenSSL refused the cipher");
    return NULL;
  }
  if (napi_create_external(env, ctx, ctx_free, NULL, &out) != napi_ok) {
    ossl.ctx_free(ctx);
    return NULL;
  }
  return out;
}

static napi_value aead_open(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  void *vctx;
  EVP_CIPHER_CTX *ctx;
  unsigned char *nonce, *aad, *src, *out, *body;
  size_t nonce_len, aad_len, src_len, out_len, ct_len;
  uint32_t off, len;
  int n, fin, ok;
  napi_value r;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) return NULL;
  if (napi_get_value_external(env, argv[0], &vctx) != napi_ok || vctx == NULL) {
    napi_throw_type_error(env, NULL, "wsscope_tls: not a context");
    return NULL;
  }
  ctx = (EVP_CIPHER_CTX *)vctx;
  if (!bytes_of(env, argv[1], &nonce, &nonce_len) || !bytes_of(env, argv[2], &aad, &aad_len) ||
      !bytes_of(env, argv[3], &src, &src_len) || !bytes_of(env, argv[6], &out, &out_len))
    return NULL;
  if (napi_get_value_uint32(env, argv[4], &off) != napi_ok || napi_get_value_uint32(env, argv[5], &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "wsscope_tls: offset and length must be numbers");
    return NULL;
  }
  if (nonce_len != NONCE_LEN || len < TAG_LEN || off > src_len || len > src_len - off || out_len < len - TAG_LEN ||
      len > 0x7fffffff || aad_len > 0x7fffffff) {
    napi_throw_type_error(env, NULL, "wsscope_tls: bad lengths");
    return NULL;
  }
  body = src + off;
  ct_len = len - TAG_LEN;
  /* EVP_DecryptInit_ex with only a nonce keeps the key schedule and restarts the message */
  ok = ossl.init(ctx, NULL, NULL, NULL, nonce) == 1 &&
       ossl.ctx_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, body + ct_len) == 1 &&
       (aad_len == 0 || ossl.update(ctx, NULL, &n, aad, (int)aad_len) == 1) &&
       (ct_len == 0 || ossl.update(ctx, out, &n, body, (int)ct_len) == 1) &&
       ossl.final(ctx, out + ct_len, &fin) == 1;
  if (!ok) {
    /* the tag did not match: what was written is not authentic */
    ossl.cleanse(out, ct_len);
    ossl.err_clear();
  }
  napi_create_int32(env, ok ? (int32_t)ct_len : -1, &r);
  return r;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value which;
  char text[256];
  pthread_once(&ossl_once, ossl_load);
  if (ossl_from == NULL) snprintf(text, sizeof(text), "none");
  else snprintf(text, sizeof(text), "%s: %s", ossl_from, ossl.version(OPENSSL_VERSION));
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &which) != napi_ok) return NULL;
  napi_property_descriptor props[] = {
      {"aeadNew", NULL, aead_new, NULL, NULL, NULL, napi_default, NULL},
      {"aeadOpen", NULL, aead_open, NULL, NULL, NULL, napi_default, NULL},
      {"openssl", NULL, NULL, NULL, NULL, which, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
