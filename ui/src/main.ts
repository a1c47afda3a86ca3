// Entry point: picks the real services inside Tauri (or inert ones in a plain browser), builds
// the shell and exposes window.scrivoUi for the end-to-end tests.

import "./styles/app.css";
import { createApp, type App } from "./app";
import { browserServices, inTauri, tauriServices } from "./services";
import type { ViewId } from "./views/view";

export interface ScrivoUi {
  /** Expands files and folders (api.batchExpand) and adds them to the batch queue. */
  addBatchPaths(paths: string[]): Promise<void>;
  /** Switches to a view: "dictate" | "batch" | "lists" | "history" | "settings". */
  showView(id: ViewId): void;
  /** The text copy and paste would use on the Dictate view. */
  dictationText(): string;
}

declare global {
  interface Window {
    scrivoUi?: ScrivoUi;
  }
}

function start(): App {
  const services = inTauri() ? tauriServices() : browserServices();
  document.documentElement.dataset.inApp = services.inApp ? "true" : "false";
  if (services.isMac) document.documentElement.dataset.platform = "mac";
  const root = document.getElementById("app") ?? document.body;
  const app = createApp(root, services);
  window.scrivoUi = {
    addBatchPaths: (paths) => app.addBatchPaths(paths),
    showView: (id) => app.show(id),
    dictationText: () => app.views.dictate.currentText(),
  };
  return app;
}

start();
