// What the shell knows about a view.

export type ViewId = "dictate" | "batch" | "lists" | "history" | "settings";

export interface View {
  id: ViewId;
  /** The section element (data-testid view-<id>). */
  el: HTMLElement;
  /** The view was shown (refresh what it lists). */
  activate?(): void;
  /** A key press while the view is shown; return true when handled. */
  onKey?(event: KeyboardEvent): boolean;
}

/** The section and its heading that every view starts with. */
export function viewSection(id: ViewId, title: string, subtitle?: string): { section: HTMLElement; header: HTMLElement } {
  const section = document.createElement("section");
  section.className = `view view-${id}`;
  section.dataset.testid = `view-${id}`;
  section.id = `view-${id}`;
  section.setAttribute("aria-labelledby", `view-${id}-title`);
  section.tabIndex = -1;
  const header = document.createElement("header");
  header.className = "view-header";
  const h2 = document.createElement("h2");
  h2.id = `view-${id}-title`;
  h2.textContent = title;
  header.appendChild(h2);
  if (subtitle) {
    const p = document.createElement("p");
    p.className = "view-subtitle";
    p.textContent = subtitle;
    header.appendChild(p);
  }
  section.appendChild(header);
  return { section, header };
}

/** An inline message area (errors and confirmations), announced politely. */
export function messageArea(testid: string): HTMLElement & { set(text: string | null, kind?: "error" | "ok" | "info"): void } {
  const el = document.createElement("p") as unknown as HTMLElement & { set(text: string | null, kind?: "error" | "ok" | "info"): void };
  el.className = "message";
  el.dataset.testid = testid;
  el.setAttribute("role", "status");
  el.setAttribute("aria-live", "polite");
  el.hidden = true;
  el.set = (text, kind = "error") => {
    el.textContent = text ?? "";
    el.hidden = !text;
    el.dataset.kind = kind;
    el.classList.toggle("message-error", kind === "error");
    el.classList.toggle("message-ok", kind === "ok");
  };
  return el;
}
