// A small element builder. Everything goes through the DOM API (never innerHTML with markup,
// never a style attribute), which keeps the page within its CSP and safe from injected text.

export type Child = Node | string | number | null | undefined | false | Child[];

export interface Attrs {
  class?: string;
  /** data-testid */
  testid?: string;
  text?: string;
  id?: string;
  title?: string;
  type?: string;
  role?: string;
  for?: string;
  name?: string;
  value?: string;
  placeholder?: string;
  disabled?: boolean;
  hidden?: boolean;
  checked?: boolean;
  tabindex?: number;
  /** aria-* and data-* and other plain attributes, by their full name. */
  attrs?: Record<string, string | number | boolean | null | undefined>;
  on?: Partial<{ [K in keyof HTMLElementEventMap]: (ev: HTMLElementEventMap[K]) => void }>;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs.class) el.className = attrs.class;
  if (attrs.testid) el.dataset.testid = attrs.testid;
  if (attrs.id) el.id = attrs.id;
  if (attrs.title) el.title = attrs.title;
  if (attrs.role) el.setAttribute("role", attrs.role);
  if (attrs.type) el.setAttribute("type", attrs.type);
  if (attrs.for) el.setAttribute("for", attrs.for);
  if (attrs.name) el.setAttribute("name", attrs.name);
  if (attrs.placeholder) el.setAttribute("placeholder", attrs.placeholder);
  if (attrs.tabindex !== undefined) el.tabIndex = attrs.tabindex;
  if (attrs.hidden) el.hidden = true;
  if (attrs.disabled) (el as HTMLButtonElement).disabled = true;
  if (attrs.value !== undefined) (el as HTMLInputElement).value = attrs.value;
  if (attrs.checked !== undefined) (el as HTMLInputElement).checked = attrs.checked;
  if (attrs.attrs) {
    for (const [name, value] of Object.entries(attrs.attrs)) {
      if (name === "style") throw new Error("style attributes break the CSP; use a class");
      if (value === null || value === undefined || value === false) continue;
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  if (attrs.on) {
    for (const [event, handler] of Object.entries(attrs.on)) {
      el.addEventListener(event, handler as EventListener);
    }
  }
  if (attrs.text !== undefined) el.textContent = attrs.text;
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, children);
}

let nextId = 0;
/** A unique id for label/for and aria-describedby pairs. */
export function uid(prefix = "el"): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** A 20x20 line icon from path data; hidden from assistive technology (the button has a label). */
export function icon(paths: string[], className = "icon"): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 20 20");
  svg.setAttribute("width", "20");
  svg.setAttribute("height", "20");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", className);
  for (const d of paths) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
  }
  return svg;
}

/** Shows or hides an element (the hidden attribute; CSS keeps [hidden] hidden). */
export function show(el: HTMLElement, visible: boolean): void {
  el.hidden = !visible;
}

/** A value for a quoted attribute selector: [data-id="${cssString(id)}"]. */
export function cssString(value: string | number): string {
  return String(value).replace(/["\\]/g, "\\$&").replace(/\n/g, "\\a ");
}
