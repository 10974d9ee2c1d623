/**
 * Mapping between positions in the (possibly filtered) timeline view and positions in the
 * messages store. `view` is ascending (filters store) or null for "all rows".
 */
export function rowPosition(view: Uint32Array | null, p: number): number {
  return view ? view[p] : p;
}

/** Position in the view of row position `rowPos`, or -1 when the filter hides it. */
export function viewPosition(view: Uint32Array | null, rowPos: number, count: number): number {
  if (rowPos < 0) return -1;
  if (!view) return rowPos < count ? rowPos : -1;
  let lo = 0;
  let hi = view.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = view[mid];
    if (v === rowPos) return mid;
    if (v < rowPos) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** First view position whose row position is >= rowPos (for "jump near"). */
export function viewPositionAtOrAfter(view: Uint32Array | null, rowPos: number, count: number): number {
  if (!view) return Math.min(Math.max(0, rowPos), count - 1);
  let lo = 0;
  let hi = view.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (view[mid] < rowPos) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, view.length - 1);
}
