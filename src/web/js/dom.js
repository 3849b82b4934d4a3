// Small DOM and formatting helpers shared by the playground's sections.

/** document.getElementById that fails loudly: every id the scripts use is in index.html. */
export function $(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node;
}

/**
 * Creates an element: `el('td', {class: 'num'}, '3.14')`. Attributes starting with "on" are event
 * listeners; children are strings (text, never HTML) or nodes; null/false children are skipped.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

/** A number for people: 3 significant digits for small values, grouped digits for large ones. */
export function num(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) >= 1000) return v.toLocaleString('en');
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en');
  return Number(v.toPrecision(digits)).toString();
}

/** Seconds as "1 h 02 min", "3 min 05 s" or "12 s". */
export function duration(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–';
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(sec).padStart(2, '0')} s`;
  return `${sec} s`;
}

/** Bytes as "12.3 kB". */
export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Shows `message` in the page's alert region (role=alert) until the next call; '' clears it. */
export function alertMessage(message) {
  const box = $('alert');
  box.textContent = message;
  box.hidden = message === '';
}

/** Copies the text of `source` to the clipboard; falls back to selecting it. */
export async function copyText(source, button) {
  const text = source.textContent ?? '';
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    const range = document.createRange();
    range.selectNodeContents(source);
    const sel = window.getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    button.textContent = 'Selected: press Ctrl+C';
  }
  setTimeout(() => (button.textContent = 'Copy'), 2000);
}
