/** The few DOM helpers the panels share. */

/** The element with `id`; throws when the page lacks it (a page and script out of step). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`dashboard: no element #${id}`);
  return el as T;
}

/**
 * Sets `el`'s text only when it changed: an unchanged figure costs no layout. A changed one is written into
 * the element's text node in place: `textContent =` would replace the node, and the browser would lay out a
 * new one (twice the objects to lay out per draw of the symbols table, bench/dashboard).
 */
export function setText(el: Element, text: string): void {
  const node = el.firstChild;
  if (node !== null && node === el.lastChild && node.nodeType === Node.TEXT_NODE) {
    if ((node as Text).data !== text) (node as Text).data = text;
  } else if (el.textContent !== text) {
    el.textContent = text;
  }
}

/** A new element with a class and, optionally, text. */
export function make<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (className !== undefined) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}
