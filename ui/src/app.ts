// The app shell: a header, a left nav with the five views, and the views (one visible).

import { h, icon } from "./lib/dom";
import { errorMessage } from "./lib/errors";
import { ICONS } from "./lib/icons";
import type { Services } from "./services";
import { createBatchView, type BatchView } from "./views/batch";
import { createDictateView, type DictateView } from "./views/dictate";
import { createHistoryView, type HistoryView } from "./views/history";
import { createListsView, type ListsView } from "./views/lists";
import { createSettingsView, type SettingsView } from "./views/settings";
import type { View, ViewId } from "./views/view";

export const VIEW_ORDER: ViewId[] = ["dictate", "batch", "lists", "history", "settings"];

const NAV: Record<ViewId, { label: string; icon: readonly string[] }> = {
  dictate: { label: "Dictate", icon: ICONS.mic },
  batch: { label: "Batch", icon: ICONS.batch },
  lists: { label: "Biasing lists", icon: ICONS.lists },
  history: { label: "History", icon: ICONS.history },
  settings: { label: "Settings", icon: ICONS.settings },
};

export interface App {
  show(id: ViewId, focus?: boolean): void;
  current(): ViewId;
  views: { dictate: DictateView; batch: BatchView; lists: ListsView; history: HistoryView; settings: SettingsView };
  /** Adds files and folders to the batch queue (window.scrivoUi.addBatchPaths). */
  addBatchPaths(paths: string[]): Promise<void>;
  destroy(): void;
}

export const NOT_IN_APP_BANNER = "Preview only: Scrivo's controls work when this page runs inside the Scrivo app.";

export function createApp(root: HTMLElement, services: Services): App {
  const views = {
    dictate: createDictateView(services),
    batch: createBatchView(services),
    lists: createListsView(services),
    history: createHistoryView(services),
    settings: createSettingsView(services),
  };
  const all: Record<ViewId, View> = views;
  let active: ViewId = "dictate";

  const version = h("span", { class: "version", testid: "app-version" });
  const header = h(
    "header",
    { class: "app-header" },
    h("span", { class: "app-logo", attrs: { "aria-hidden": "true" } }, icon([...ICONS.mic])),
    h("h1", { class: "app-name", text: "Scrivo" }),
    h("span", { class: "app-tag", text: "Offline dictation" }),
    h("span", { class: "spacer" }),
    version,
  );

  const banner = services.inApp
    ? null
    : h("div", { class: "banner banner-info app-banner", testid: "no-tauri-banner", role: "note", text: NOT_IN_APP_BANNER });

  const mod = services.isMac ? "Cmd" : "Ctrl";
  const navButtons = new Map<ViewId, HTMLButtonElement>();
  const navList = h(
    "ul",
    { class: "nav-list" },
    VIEW_ORDER.map((id, i) => {
      const button = h(
        "button",
        {
          type: "button",
          class: "nav-button",
          testid: `nav-${id}`,
          title: `${NAV[id].label} (${mod}+${i + 1})`,
          attrs: { "aria-controls": `view-${id}`, "aria-keyshortcuts": `${services.isMac ? "Meta" : "Control"}+${i + 1}` },
          on: { click: () => show(id) },
        },
        icon([...NAV[id].icon]),
        h("span", { class: "nav-label", text: NAV[id].label }),
      );
      navButtons.set(id, button);
      return h("li", {}, button);
    }),
  );
  const nav = h("nav", { class: "app-nav", attrs: { "aria-label": "Sections" } }, navList);
  navList.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp" && e.key !== "Home" && e.key !== "End") return;
    const buttons = VIEW_ORDER.map((id) => navButtons.get(id)!);
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0) return;
    e.preventDefault();
    let next = at;
    if (e.key === "ArrowDown") next = (at + 1) % buttons.length;
    else if (e.key === "ArrowUp") next = (at - 1 + buttons.length) % buttons.length;
    else if (e.key === "Home") next = 0;
    else next = buttons.length - 1;
    buttons[next].focus();
  });

  const main = h("main", { class: "app-main" }, VIEW_ORDER.map((id) => all[id].el));
  const shell = h("div", { class: "app-shell" }, nav, main);
  // What the app found wrong at start and mended (a damaged file kept aside): one banner each.
  const notices = h("div", { class: "app-notices", testid: "app-notices", role: "status" });
  root.append(header, ...(banner ? [banner] : []), notices, shell);

  function show(id: ViewId, focus = false): void {
    active = id;
    for (const v of VIEW_ORDER) {
      const on = v === id;
      all[v].el.hidden = !on;
      const button = navButtons.get(v)!;
      button.classList.toggle("is-active", on);
      if (on) button.setAttribute("aria-current", "page");
      else button.removeAttribute("aria-current");
    }
    root.dataset.view = id;
    all[id].activate?.();
    if (focus) all[id].el.focus({ preventScroll: true });
  }

  const onKeyDown = (e: KeyboardEvent) => {
    const mod = services.isMac ? e.metaKey : e.ctrlKey;
    if (mod && !e.altKey && !e.shiftKey) {
      const digit = /^Digit([1-5])$/.exec(e.code)?.[1] ?? (/^[1-5]$/.test(e.key) ? e.key : null);
      if (digit) {
        e.preventDefault();
        show(VIEW_ORDER[Number(digit) - 1], true);
        return;
      }
    }
    all[active].onKey?.(e);
  };
  document.addEventListener("keydown", onKeyDown);

  // Files dropped on the window go to the batch queue.
  let unlistenDrop: (() => void) | null = null;
  services
    .onDrop((event) => {
      if (event.type === "enter") views.batch.setDropTarget(true);
      else if (event.type === "leave") views.batch.setDropTarget(false);
      else if (event.type === "drop") {
        views.batch.setDropTarget(false);
        if (event.paths.length > 0) {
          if (active !== "batch") show("batch");
          void views.batch.addPaths(event.paths);
        }
      }
    })
    .then(
      (u) => (unlistenDrop = u),
      () => {
        /* no drag and drop here */
      },
    );

  services.api.appInfo().then(
    (info) => {
      version.textContent = `v${info.version}`;
      for (const notice of info.notices ?? []) {
        const item = h(
          "div",
          { class: "banner app-banner", testid: "app-notice" },
          h("span", { class: "banner-text", text: notice }),
        );
        item.append(h("button", { type: "button", class: "button subtle", testid: "app-notice-dismiss", text: "Dismiss", on: { click: () => item.remove() } }));
        notices.append(item);
      }
    },
    (e) => {
      version.title = errorMessage(e);
    },
  );

  show("dictate");

  return {
    show,
    current: () => active,
    views,
    addBatchPaths: (paths) => views.batch.addPaths(paths),
    destroy() {
      document.removeEventListener("keydown", onKeyDown);
      unlistenDrop?.();
    },
  };
}
