/*
 * wsscope's WebAssembly inflater: libdeflate's decompressor (native/libdeflate, with the
 * preset-dictionary patch described in native/README.md) behind four exports that
 * engine/ws/wasm-inflate.ts drives. No imports: the module needs nothing from its host.
 *
 * Build: node scripts/build-inflate-wasm.mjs (clang, wasm32, wasi-libc for memcpy and malloc).
 */
#include <stddef.h>
#include <stdlib.h>
#include "libdeflate.h"

static struct libdeflate_decompressor *dec;
static size_t out_len;

#define EXPORT(name) __attribute__((export_name(#name))) name

void *EXPORT(wsi_malloc)(size_t n) { return malloc(n); }
void EXPORT(wsi_free)(void *p) { free(p); }

/*
 * Inflate in[0, in_len) (a raw DEFLATE stream that must end with a final block) into
 * out[0, avail), where the dict bytes before 'out' are the sender's window.
 * Returns libdeflate_result (0 success, 1 bad data, 3 output would exceed avail),
 * or -1 when the decompressor could not be allocated.
 */
int EXPORT(wsi_inflate)(const void *in, size_t in_len, void *out, size_t avail, size_t dict)
{
	if (dec == NULL && (dec = libdeflate_alloc_decompressor()) == NULL)
		return -1;
	libdeflate_set_dict_len(dec, dict);
	out_len = 0;
	return libdeflate_deflate_decompress_ex(dec, in, in_len, out, avail, NULL, &out_len);
}

/* output bytes the last successful call wrote */
size_t EXPORT(wsi_out_len)(void) { return out_len; }
