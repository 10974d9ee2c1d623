# node-gyp build of the TLS AEAD addon (scripts/build-tls-addon.mjs runs it from `npm ci`).
# Only Node's headers are needed (they include OpenSSL's): the addon links no OpenSSL and
# finds one when it loads (wsscope_tls.c: the process's, else libcrypto.so.3).
{
  "targets": [
    {
      "target_name": "wsscope_tls",
      "sources": ["wsscope_tls.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-ldl", "-lpthread"] }]
      ]
    }
  ]
}
