/*
 * wsscope's JSON payload encoder for `read --json` (engine/text/json-bytes.ts drives it): text
 * payload bytes JSON-escaped and binary payload bytes base64-encoded, 16 bytes per step with
 * WebAssembly SIMD, straight into the output buffer of engine/cli/out.ts, which lives in this
 * module's memory. No imports and no libc: two pure functions over memory the caller lays out.
 *
 * Build: node scripts/build-json-wasm.mjs (clang, wasm32, -msimd128).
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name))) name

/*
 * JSON string escapes as JSON.stringify writes them (ECMA-262 QuoteJSONString; RFC 8259
 * section 7): '"' and '\\' and the controls below 0x20, two-character forms for \b \t \n \f
 * \r, else \u00XX in lowercase hex. Every other byte, 0x7f and the bytes of multi-byte UTF-8
 * characters (U+2028 and U+2029 too) stands for itself. Per control: the escape's bytes,
 * little-endian in 8 (so one unaligned 8-byte store writes it), and its length; '"' and '\\'
 * are a backslash and themselves.
 */
#define HEX(h) ((h) < 10 ? '0' + (h) : 'a' + (h) - 10)
#define U(c) (0x3030755cull | (uint64_t)HEX((c) >> 4) << 32 | (uint64_t)HEX((c) & 15) << 40)
#define S(e) (0x5cull | (uint64_t)(e) << 8)
static const uint64_t ctl_seq[32] = {
	U(0), U(1), U(2), U(3), U(4), U(5), U(6), U(7), S('b'), S('t'), S('n'), U(11), S('f'), S('r'), U(14), U(15),
	U(16), U(17), U(18), U(19), U(20), U(21), U(22), U(23), U(24), U(25), U(26), U(27), U(28), U(29), U(30), U(31),
};
static const uint8_t ctl_len[32] = {6, 6, 6, 6, 6, 6, 6, 6, 2, 2, 2, 6, 2, 2, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6};

/* one bit per byte of v that needs an escape: below 0x20, '"' or '\\' */
static inline uint32_t escapes(v128_t v)
{
	v128_t m = wasm_u8x16_lt(v, wasm_i8x16_splat(0x20));
	m = wasm_v128_or(m, wasm_i8x16_eq(v, wasm_i8x16_splat('"')));
	m = wasm_v128_or(m, wasm_i8x16_eq(v, wasm_i8x16_splat('\\')));
	return wasm_i8x16_bitmask(m);
}

/*
 * For blocks whose only escapes are '"' and '\\' (JSON text is full of quotes), per 8-bit mask
 * of those bytes in 8 input bytes: the swizzle that spreads the 8 bytes over 8 + popcount
 * output bytes with a gap before each escaped one (index 0x80: a zero byte), and the
 * backslashes that fill the gaps. Built on the first call (4 KiB, zero until then).
 */
static uint8_t spread[256][16] __attribute__((aligned(16)));
static uint8_t slashes[256][16] __attribute__((aligned(16)));
static int spread_ready;

static void build_spread(void)
{
	for (int m = 0; m < 256; m++) {
		int o = 0;
		for (int j = 0; j < 8; j++) {
			if (m & (1 << j)) {
				spread[m][o] = 0x80;
				slashes[m][o++] = '\\';
			}
			spread[m][o++] = (uint8_t)j;
		}
		while (o < 16)
			spread[m][o++] = 0x80;
	}
	spread_ready = 1;
}

/*
 * Escape in[0, n) into out; returns the end of what was written. The caller provides 6n + 32
 * bytes at out (a byte becomes at most 6, and stores run up to 16 bytes past the end) and 16
 * readable bytes after in[n) (loads run past the end; the extra bytes are masked off or
 * overwritten). Per block of 16 bytes:
 * - no control byte: each half goes out through its `spread` swizzle, without a branch on
 *   how many quotes and backslashes it holds (none: the block is stored as it is);
 * - else (and for the last, short block): the block is stored as it is; at each byte that
 *   needs an escape, the escape is written over it and the rest of the block is stored again
 *   from the input right after it.
 */
uint8_t *EXPORT(wj_escape)(const uint8_t *in, uint32_t n, uint8_t *out)
{
	if (!spread_ready)
		build_spread();
	uint32_t i = 0;
	while (i < n) {
		v128_t v = wasm_v128_load(in + i);
		if (n - i >= 16 && !wasm_i8x16_bitmask(wasm_u8x16_lt(v, wasm_i8x16_splat(0x20)))) {
			uint32_t qb = wasm_i8x16_bitmask(wasm_v128_or(wasm_i8x16_eq(v, wasm_i8x16_splat('"')), wasm_i8x16_eq(v, wasm_i8x16_splat('\\'))));
			i += 16;
			if (qb == 0) {
				wasm_v128_store(out, v);
				out += 16;
				continue;
			}
			uint32_t lo = qb & 255, hi = qb >> 8;
			wasm_v128_store(out, wasm_v128_or(wasm_i8x16_swizzle(v, wasm_v128_load(spread[lo])), wasm_v128_load(slashes[lo])));
			out += 8 + __builtin_popcount(lo);
			/* the high half: the same tables, indexes moved up by 8 (0x80 + 8 still selects zero) */
			v128_t idx = wasm_i8x16_add(wasm_v128_load(spread[hi]), wasm_i8x16_splat(8));
			wasm_v128_store(out, wasm_v128_or(wasm_i8x16_swizzle(v, idx), wasm_v128_load(slashes[hi])));
			out += 8 + __builtin_popcount(hi);
			continue;
		}
		uint32_t bits = escapes(v);
		uint32_t take = 16;
		if (n - i < 16) {
			take = n - i;
			bits &= (1u << take) - 1;
		}
		wasm_v128_store(out, v);
		uint32_t grew = 0;
		while (bits) {
			uint32_t k = __builtin_ctz(bits);
			bits &= bits - 1;
			uint8_t c = in[i + k];
			uint64_t e = c < 0x20 ? ctl_seq[c] : S(c);
			__builtin_memcpy(out + k + grew, &e, 8);
			grew += (c < 0x20 ? ctl_len[c] : 2) - 1;
			wasm_v128_store(out + k + 1 + grew, wasm_v128_load(in + i + k + 1));
		}
		out += take + grew;
		i += take;
	}
	return out;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * Base64 of in[0, n) (RFC 4648 section 4, with '=' padding) into out; returns the end of
 * what was written. Pieces join without padding when every n but the last is a multiple of 3.
 * 12 bytes become 16 characters per step (W. Mula's SIMD base64: a byte shuffle, shifts and
 * masks to split each 3 bytes into four 6-bit values, then one table lookup of the offset to
 * add per value's range). The caller provides 4 * ceil(n / 3) bytes at out and 4 readable
 * bytes after in[n).
 */
uint8_t *EXPORT(wj_base64)(const uint8_t *in, uint32_t n, uint8_t *out)
{
	/* each 32-bit lane gets bytes (b1, b0, b2, b1) of its 3 */
	const v128_t shuffle = wasm_i8x16_make(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
	/* what to add to a 6-bit value, by range: 26-51 (0), 52-61 (1-10), 62, 63, 0-25 (13) */
	const v128_t offset = wasm_i8x16_make(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
	uint32_t i = 0;
	for (; i + 12 <= n; i += 12) {
		v128_t t = wasm_i8x16_swizzle(wasm_v128_load(in + i), shuffle);
		/* lane t = b1 | b0 << 8 | b2 << 16 | b1 << 24: the four values at bytes 0-3 */
		v128_t a = wasm_v128_and(wasm_u32x4_shr(t, 10), wasm_i32x4_splat(0x3f));
		v128_t b = wasm_v128_and(wasm_i32x4_shl(t, 4), wasm_i32x4_splat(0x3f00));
		v128_t c = wasm_v128_and(wasm_u32x4_shr(t, 6), wasm_i32x4_splat(0x3f0000));
		v128_t d = wasm_v128_and(wasm_i32x4_shl(t, 8), wasm_i32x4_splat(0x3f000000));
		v128_t idx = wasm_v128_or(wasm_v128_or(a, b), wasm_v128_or(c, d));
		v128_t range = wasm_u8x16_sub_sat(idx, wasm_i8x16_splat(51));
		range = wasm_v128_bitselect(wasm_i8x16_splat(13), range, wasm_u8x16_lt(idx, wasm_i8x16_splat(26)));
		wasm_v128_store(out, wasm_i8x16_add(idx, wasm_i8x16_swizzle(offset, range)));
		out += 16;
	}
	for (; i + 3 <= n; i += 3) {
		uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[0] = B64[w >> 18];
		out[1] = B64[(w >> 12) & 63];
		out[2] = B64[(w >> 6) & 63];
		out[3] = B64[w & 63];
		out += 4;
	}
	if (i < n) {
		uint32_t w = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		out[0] = B64[w >> 18];
		out[1] = B64[(w >> 12) & 63];
		out[2] = i + 1 < n ? B64[(w >> 6) & 63] : '=';
		out[3] = '=';
		out += 4;
	}
	return out;
}
