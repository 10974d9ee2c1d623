/**
 * The laid-out width of an element, kept current by a ResizeObserver from mount to unmount:
 * `width` is 0 until the element is laid out (and stays 0 where there is no layout, as in
 * happy-dom). `onMeasure` runs after each measurement (to read more, e.g. a font's character
 * width). The observer is the caller's component's: it is disconnected on unmount.
 */
import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue';

export function useElementWidth(el: Ref<HTMLElement | null>, onMeasure?: () => void): Ref<number> {
  const width = ref(0);
  function measure(): void {
    width.value = el.value?.clientWidth ?? 0;
    onMeasure?.();
  }
  let ro: ResizeObserver | null = null;
  onMounted(() => {
    measure();
    if (typeof ResizeObserver !== 'undefined' && el.value) {
      ro = new ResizeObserver(measure);
      ro.observe(el.value);
    }
  });
  onBeforeUnmount(() => ro?.disconnect());
  return width;
}
