// Batch: a queue of audio files transcribed to txt/srt/vtt/json, with per-file progress.

import type { BatchFileState, OutputFormat } from "../api";
import { BatchQueue, baseName, type QueueItem } from "../lib/batchQueue";
import { h, icon, replaceChildren, uid } from "../lib/dom";
import { errorMessage } from "../lib/errors";
import { formatBytes } from "../lib/format";
import { ICONS } from "../lib/icons";
import type { Services } from "../services";
import { messageArea, viewSection, type View } from "./view";

const STATE_TEXT: Record<BatchFileState, string> = {
  queued: "Waiting",
  running: "Transcribing",
  done: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

const FORMATS: Array<{ value: OutputFormat; label: string }> = [
  { value: "txt", label: "Plain text (.txt)" },
  { value: "srt", label: "Subtitles (.srt)" },
  { value: "vtt", label: "WebVTT (.vtt)" },
  { value: "json", label: "JSON with timings (.json)" },
];

export interface BatchView extends View {
  /** Expands files and folders (batch_expand) and queues what they hold. */
  addPaths(paths: string[]): Promise<void>;
  queue: BatchQueue;
  /** A drag over the window: show or hide the drop target. */
  setDropTarget(active: boolean): void;
}

interface RowParts {
  tr: HTMLTableRowElement;
  progress: HTMLProgressElement;
  state: HTMLElement;
  error: HTMLElement;
  open: HTMLButtonElement;
  remove: HTMLButtonElement;
}

export function createBatchView(services: Services): BatchView {
  const { api, on, dialogs } = services;
  const { section } = viewSection("batch", "Batch", "Transcribe recordings in bulk. Drop WAV files or folders anywhere on this page.");
  const queue = new BatchQueue();
  let outDir: string | null = null;
  let polishDefaultLoaded = false;

  const message = messageArea("batch-message");

  // ---- toolbar -------------------------------------------------------------------------
  const addFiles = h(
    "button",
    { type: "button", class: "button", testid: "batch-add-files", on: { click: () => void pickFiles() } },
    icon([...ICONS.file]),
    " Add files…",
  );
  const addFolder = h(
    "button",
    { type: "button", class: "button", testid: "batch-add-folder", on: { click: () => void pickFolder() } },
    icon([...ICONS.folder]),
    " Add folder…",
  );
  const clearFinished = h("button", {
    type: "button",
    class: "button subtle",
    testid: "batch-clear",
    text: "Clear finished",
    on: {
      click: () => {
        queue.clearFinished();
        renderRows();
      },
    },
  });

  // ---- options -------------------------------------------------------------------------
  const formatId = uid("batch-format");
  const format = h("select", { id: formatId, testid: "batch-format" }, FORMATS.map((f) => h("option", { value: f.value, text: f.label })));
  const outDirText = h("output", { class: "path", testid: "batch-outdir", attrs: { "aria-live": "polite" }, text: "Next to each file" });
  const outDirChoose = h("button", {
    type: "button",
    class: "button",
    testid: "batch-outdir-choose",
    text: "Choose…",
    attrs: { "aria-label": "Choose the output folder" },
    on: { click: () => void pickOutDir() },
  });
  const outDirReset = h("button", {
    type: "button",
    class: "button subtle",
    testid: "batch-outdir-reset",
    text: "Next to each file",
    hidden: true,
    attrs: { "aria-label": "Write each result next to its file" },
    on: {
      click: () => {
        outDir = null;
        renderOutDir();
      },
    },
  });
  const polishId = uid("batch-polish");
  const polish = h("input", { type: "checkbox", id: polishId, testid: "batch-polish" });

  const options = h(
    "div",
    { class: "options-row" },
    h("div", { class: "field" }, h("label", { for: formatId, text: "Format" }), format),
    h(
      "div",
      { class: "field field-grow", role: "group", attrs: { "aria-label": "Output folder" } },
      h("span", { class: "field-label", text: "Output folder" }),
      h("div", { class: "inline" }, outDirText, outDirChoose, outDirReset),
    ),
    h("label", { class: "check", for: polishId }, polish, " Polish the text"),
  );

  // ---- the queue -----------------------------------------------------------------------
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "table batch-table", testid: "batch-queue", attrs: { "aria-label": "Files to transcribe" } },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { attrs: { scope: "col" }, text: "File" }),
        h("th", { class: "num", attrs: { scope: "col" }, text: "Size" }),
        h("th", { class: "col-progress", attrs: { scope: "col" }, text: "Progress" }),
        h("th", { attrs: { scope: "col" }, text: "Status" }),
        h("th", { class: "col-actions", attrs: { scope: "col" } }, h("span", { class: "visually-hidden", text: "Actions" })),
      ),
    ),
    tbody,
  );
  const tableWrap = h("div", { class: "table-wrap drop-zone" }, table);
  const dropHint = h("div", { class: "drop-hint", attrs: { "aria-hidden": "true" }, text: "Drop to add to the queue" });

  // ---- footer --------------------------------------------------------------------------
  const start = h("button", { type: "button", class: "button primary", testid: "batch-start", text: "Start", on: { click: () => void startBatch() } });
  const cancel = h("button", {
    type: "button",
    class: "button",
    testid: "batch-cancel",
    text: "Cancel",
    disabled: true,
    on: { click: () => void cancelBatch() },
  });
  const total = h("progress", { class: "progress total-progress", testid: "batch-total", attrs: { max: 1, "aria-label": "Total progress" } });
  total.value = 0;
  const summary = h("p", { class: "batch-summary", testid: "batch-summary", role: "status", attrs: { "aria-live": "polite" } });

  const footer = h("div", { class: "batch-footer" }, start, cancel, h("div", { class: "total" }, total, summary));

  section.append(
    h("div", { class: "toolbar" }, addFiles, addFolder, h("span", { class: "spacer" }), clearFinished),
    options,
    tableWrap,
    footer,
    message,
    dropHint,
  );

  // ---- rendering -----------------------------------------------------------------------
  const rows = new Map<string, RowParts>();

  function makeRow(item: QueueItem): RowParts {
    const progress = h("progress", { class: "progress", testid: "batch-row-progress", attrs: { max: 1, "aria-label": `Progress of ${item.name}` } });
    const state = h("span", { class: "state-text" });
    const error = h("p", { class: "batch-error", testid: "batch-error", hidden: true });
    const open = h("button", {
      type: "button",
      class: "button small",
      testid: "batch-open",
      text: "Open",
      hidden: true,
      attrs: { "aria-label": `Open the result of ${item.name}` },
      on: { click: () => void openOutput(item.path) },
    });
    const remove = h("button", {
      type: "button",
      class: "button small subtle",
      testid: "batch-remove",
      text: "Remove",
      hidden: true,
      attrs: { "aria-label": `Remove ${item.name} from the queue` },
      on: {
        click: () => {
          if (queue.remove(item.path)) renderRows();
        },
      },
    });
    const tr = h(
      "tr",
      { testid: "batch-row", attrs: { "data-path": item.path } },
      h("td", { class: "cell-name", title: item.path }, h("span", { class: "file-name", text: item.name || baseName(item.path) }), h("span", { class: "file-path", text: item.path })),
      h("td", { class: "num", text: formatBytes(item.bytes) }),
      h("td", { class: "col-progress" }, progress),
      h("td", { class: "cell-state" }, state, error),
      h("td", { class: "col-actions" }, open, remove),
    );
    return { tr, progress, state, error, open, remove };
  }

  function updateRow(parts: RowParts, item: QueueItem): void {
    parts.tr.dataset.state = item.state;
    parts.progress.value = item.fraction;
    parts.progress.setAttribute("aria-valuetext", `${Math.round(item.fraction * 100)}%`);
    parts.state.textContent = item.state === "running" ? `${STATE_TEXT.running} ${Math.round(item.fraction * 100)}%` : STATE_TEXT[item.state];
    parts.error.textContent = item.error ?? "";
    parts.error.hidden = !(item.state === "failed" && item.error);
    parts.open.hidden = !(item.state === "done" && item.output);
    if (item.output) parts.open.title = item.output;
    parts.remove.hidden = !queue.canRemove(item.path);
  }

  function renderRows(): void {
    const items = queue.list();
    const seen = new Set<string>();
    const ordered: Node[] = [];
    for (const item of items) {
      let parts = rows.get(item.path);
      if (!parts) {
        parts = makeRow(item);
        rows.set(item.path, parts);
      }
      updateRow(parts, item);
      seen.add(item.path);
      ordered.push(parts.tr);
    }
    for (const path of [...rows.keys()]) if (!seen.has(path)) rows.delete(path);
    if (ordered.length === 0) {
      ordered.push(
        h("tr", { class: "empty-row" }, h("td", { attrs: { colspan: 5 }, text: "No files yet. Add WAV files or a folder, or drop them here." })),
      );
    }
    replaceChildren(tbody, ordered);
    renderTotals();
  }

  function renderTotals(): void {
    const running = queue.running();
    start.disabled = !queue.canStart();
    cancel.disabled = !running;
    addFiles.disabled = false;
    format.disabled = running;
    polish.disabled = running;
    outDirChoose.disabled = running;
    outDirReset.disabled = running;
    clearFinished.disabled = !queue.list().some((i) => i.state === "done" || i.state === "failed" || i.state === "cancelled");
    const fraction = queue.totalFraction();
    total.value = fraction;
    total.setAttribute("aria-valuetext", `${Math.round(fraction * 100)}%`);
    summary.textContent = queue.summaryText();
    section.dataset.running = running ? "true" : "false";
    for (const item of queue.list()) {
      const parts = rows.get(item.path);
      if (parts) parts.remove.hidden = !queue.canRemove(item.path);
    }
  }

  function renderOutDir(): void {
    outDirText.textContent = outDir ?? "Next to each file";
    outDirText.title = outDir ?? "";
    outDirReset.hidden = outDir === null;
  }

  // ---- actions -------------------------------------------------------------------------
  async function addPaths(paths: string[]): Promise<void> {
    const wanted = paths.filter((p) => typeof p === "string" && p.length > 0);
    if (wanted.length === 0) return;
    message.set(null);
    try {
      const files = await api.batchExpand(wanted);
      const added = queue.add(files);
      renderRows();
      if (files.length === 0) message.set("No WAV files found there.", "info");
      else if (added < files.length) message.set(`${files.length - added} already in the queue.`, "info");
    } catch (e) {
      message.set(errorMessage(e), "error");
    }
  }

  async function pickFiles(): Promise<void> {
    try {
      const paths = await dialogs.openFiles({ title: "Add audio files", multiple: true, filters: [{ name: "WAV audio", extensions: ["wav", "WAV"] }] });
      if (paths && paths.length > 0) await addPaths(paths);
    } catch (e) {
      message.set(errorMessage(e), "error");
    }
  }

  async function pickFolder(): Promise<void> {
    try {
      const dir = await dialogs.openFolder({ title: "Add a folder of recordings" });
      if (dir) await addPaths([dir]);
    } catch (e) {
      message.set(errorMessage(e), "error");
    }
  }

  async function pickOutDir(): Promise<void> {
    try {
      const dir = await dialogs.openFolder({ title: "Where to write the transcripts" });
      if (dir) {
        outDir = dir;
        renderOutDir();
      }
    } catch (e) {
      message.set(errorMessage(e), "error");
    }
  }

  async function startBatch(): Promise<void> {
    if (!queue.canStart()) return;
    message.set(null);
    const files = queue.startRun();
    renderRows();
    try {
      await api.batchStart({ files, format: format.value as OutputFormat, outDir, polish: polish.checked });
    } catch (e) {
      queue.abortRun();
      renderRows();
      message.set(errorMessage(e), "error");
    }
  }

  async function cancelBatch(): Promise<void> {
    cancel.disabled = true;
    try {
      await api.batchCancel();
    } catch (e) {
      message.set(errorMessage(e), "error");
      cancel.disabled = !queue.running();
    }
  }

  async function openOutput(path: string): Promise<void> {
    const item = queue.get(path);
    if (!item?.output) return;
    try {
      await api.openPath(item.output);
    } catch (e) {
      message.set(errorMessage(e), "error");
    }
  }

  void on("batch-progress", (p) => {
    const item = queue.applyProgress(p);
    if (!item) return;
    const parts = rows.get(item.path);
    if (parts) updateRow(parts, item);
    else renderRows();
    renderTotals();
  });
  void on("batch-done", (s) => {
    queue.finish(s);
    renderRows();
  });

  function setDropTarget(active: boolean): void {
    section.classList.toggle("is-drop-target", active);
  }

  renderOutDir();
  renderRows();

  return {
    id: "batch",
    el: section,
    queue,
    addPaths,
    setDropTarget,
    activate() {
      if (polishDefaultLoaded) return;
      polishDefaultLoaded = true;
      api.settingsGet().then(
        (s) => {
          if (!queue.running()) polish.checked = s.polish;
        },
        () => {
          /* keep the default */
        },
      );
    },
  };
}
