// What the views need from the outside world, in one object so that tests can hand them a fake:
// the commands (api.ts), the events, the file dialogs and file drops.

import { api as tauriApi, on as tauriOn, type Events } from "./api";

export type Api = typeof tauriApi;
export type Unlisten = () => void;
export type OnEvent = <K extends keyof Events>(event: K, handler: (payload: Events[K]) => void) => Promise<Unlisten>;

export interface DialogFilter {
  name: string;
  extensions: string[];
}

export interface Dialogs {
  /** Files to open (null when cancelled). */
  openFiles(options: { title?: string; filters?: DialogFilter[]; multiple?: boolean }): Promise<string[] | null>;
  /** A folder (null when cancelled). */
  openFolder(options: { title?: string }): Promise<string | null>;
  /** A path to save to (null when cancelled). */
  saveFile(options: { title?: string; defaultPath?: string; filters?: DialogFilter[] }): Promise<string | null>;
}

export type DropEvent = { type: "enter"; paths: string[] } | { type: "over" } | { type: "drop"; paths: string[] } | { type: "leave" };

export interface Services {
  api: Api;
  on: OnEvent;
  dialogs: Dialogs;
  /** Files dragged onto the window. */
  onDrop(handler: (event: DropEvent) => void): Promise<Unlisten>;
  /** Whether the page runs inside the app (false in a plain browser). */
  inApp: boolean;
  isMac: boolean;
}

export const NOT_IN_APP = "Not available here: this page runs inside the Scrivo app.";

export function inTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window && !!(window as unknown as Record<string, unknown>).__TAURI_INTERNALS__;
}

function detectMac(): boolean {
  return typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
}

/** The real thing: Tauri's IPC, plugin-dialog and the webview's drag and drop. */
export function tauriServices(): Services {
  return {
    api: tauriApi,
    on: tauriOn,
    inApp: true,
    isMac: detectMac(),
    dialogs: {
      async openFiles({ title, filters, multiple = true }) {
        const { open } = await import("@tauri-apps/plugin-dialog");
        const picked = await open({ title, filters, multiple, directory: false });
        if (picked === null) return null;
        return Array.isArray(picked) ? picked : [picked];
      },
      async openFolder({ title }) {
        const { open } = await import("@tauri-apps/plugin-dialog");
        const picked = await open({ title, directory: true, multiple: false });
        if (picked === null) return null;
        return Array.isArray(picked) ? (picked[0] ?? null) : picked;
      },
      async saveFile({ title, defaultPath, filters }) {
        const { save } = await import("@tauri-apps/plugin-dialog");
        return save({ title, defaultPath, filters });
      },
    },
    async onDrop(handler) {
      const { getCurrentWebview } = await import("@tauri-apps/api/webview");
      return getCurrentWebview().onDragDropEvent((event) => {
        const p = event.payload;
        if (p.type === "enter" || p.type === "drop") handler({ type: p.type, paths: p.paths });
        else handler({ type: p.type });
      });
    },
  };
}

/** In a plain browser: every command fails with NOT_IN_APP, events never come. */
export function browserServices(): Services {
  const fail = () => Promise.reject({ message: NOT_IN_APP });
  const api = Object.fromEntries(Object.keys(tauriApi).map((name) => [name, fail])) as unknown as Api;
  return {
    api,
    on: async () => () => {},
    inApp: false,
    isMac: detectMac(),
    dialogs: { openFiles: fail, openFolder: fail, saveFile: fail },
    onDrop: async () => () => {},
  };
}
