// History: every past dictation with its text (or why it failed); play, copy, re-run, delete,
// and what polishing changed, with the removals it was not sure of marked; a change undone there
// is saved as the entry's text.

import type { HistoryEntry } from "../api";
import { h, icon, replaceChildren, type Child } from "../lib/dom";
import { ChangeModel } from "../lib/changes";
import { errorMessage } from "../lib/errors";
import { formatDate, formatDuration } from "../lib/format";
import { ICONS } from "../lib/icons";
import type { Services } from "../services";
import { renderChanges } from "./changeView";
import { messageArea, viewSection, type View } from "./view";

const STATUS_TEXT: Record<HistoryEntry["status"], string> = {
  recorded: "Recorded",
  transcribed: "Transcribed",
  failed: "Failed",
};

/** The audio from history_audio: an ArrayBuffer (raw IPC response) or, from a JSON answer, numbers. */
export function toWavBlob(data: ArrayBuffer | ArrayLike<number> | Uint8Array): Blob {
  let bytes: Uint8Array;
  if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
  else if (data instanceof Uint8Array) bytes = data;
  else bytes = Uint8Array.from(data as ArrayLike<number>);
  return new Blob([bytes as BlobPart], { type: "audio/wav" });
}

export interface HistoryView extends View {
  refresh(): Promise<void>;
}

export function createHistoryView(services: Services): HistoryView {
  const { api, on } = services;
  const { section, header } = viewSection("history", "History", "Every dictation, with its recording.");
  let entries: HistoryEntry[] = [];
  let loaded = false;
  const busy = new Set<number>();
  let confirming: number | null = null;
  let playing: { id: number; audio: HTMLAudioElement; url: string } | null = null;
  const rowMessages = new Map<number, string>();
  /** The entries whose changes are shown instead of their text. */
  const showingChanges = new Set<number>();
  /** Each transcribed entry's changes, with what the user undid in this view. */
  const changeModels = new Map<number, ChangeModel>();
  /** The entries whose edited text is being saved: one save at a time each. */
  const saving = new Set<number>();

  /** The entry's change model: the one already in use while it still describes the entry. */
  function modelOf(e: HistoryEntry): ChangeModel | null {
    if (e.status !== "transcribed" || e.raw == null || e.text == null) return null;
    const known = changeModels.get(e.id);
    if (known && known.raw === e.raw && known.currentText() === e.text) return known;
    const fresh = new ChangeModel(e.raw, e.text, e.changes ?? []);
    changeModels.set(e.id, fresh);
    return fresh;
  }

  const message = messageArea("history-message");
  const refreshButton = h(
    "button",
    { type: "button", class: "button subtle", testid: "history-refresh", on: { click: () => void refresh() } },
    icon([...ICONS.refresh]),
    " Refresh",
  );
  header.appendChild(refreshButton);
  const list = h("ol", { class: "history-list", testid: "history-list", attrs: { "aria-label": "Past dictations" } });
  section.append(message, h("div", { class: "scroll-area" }, list));

  function textOf(e: HistoryEntry): string {
    return e.text ?? e.raw ?? "";
  }

  function renderRow(e: HistoryEntry): HTMLElement {
    const isBusy = busy.has(e.id);
    const isSaving = saving.has(e.id);
    const isPlaying = playing?.id === e.id;
    const text = textOf(e);
    // What polishing changed, for a transcribed entry: shown on request, struck through.
    const model = modelOf(e);
    const hasChanges = model?.hasChanges() ?? false;
    const toCheck = model?.unsureIndices().length ?? 0;
    const showing = hasChanges && showingChanges.has(e.id);
    const bodyId = `history-text-${e.id}`;
    const countId = `history-unsure-${e.id}`;
    let body: HTMLElement;
    if (e.status === "failed") body = h("p", { class: "history-text is-error", text: e.error || "Transcription failed." });
    else if (showing && model) {
      body = h("p", { class: "history-text is-changes", testid: "history-changes", attrs: { id: bodyId, "aria-busy": isSaving ? "true" : null } });
      renderChanges(body, model, { onToggle: (index) => void toggleChange(e.id, model, index) });
    } else if (text) body = h("p", { class: "history-text", text, attrs: { id: bodyId } });
    else body = h("p", { class: "history-text muted", text: e.status === "recorded" ? "Not transcribed yet." : "(nothing was heard)" });
    const models = [e.asrModel, e.polisher].filter(Boolean).join(" + ");
    const actions: Child[] = [];
    if (confirming === e.id) {
      actions.push(
        h(
          "div",
          { class: "confirm", role: "group", attrs: { "aria-label": "Delete this dictation?" } },
          h("span", { text: "Delete the text and the recording?" }),
          h("button", { type: "button", class: "button small danger", testid: "history-delete-confirm", text: "Delete", on: { click: () => void remove(e.id) } }),
          h("button", {
            type: "button",
            class: "button small",
            testid: "history-delete-cancel",
            text: "Keep",
            on: {
              click: () => {
                confirming = null;
                render();
                focusIn(e.id, "history-delete");
              },
            },
          }),
        ),
      );
    } else {
      actions.push(
        h(
          "button",
          {
            type: "button",
            class: "button small",
            testid: "history-play",
            disabled: isBusy,
            attrs: { "aria-label": isPlaying ? "Stop playing" : "Play the recording", "aria-pressed": isPlaying ? "true" : "false" },
            on: { click: () => void play(e.id) },
          },
          icon([...(isPlaying ? ICONS.stop : ICONS.play)]),
          isPlaying ? " Stop" : " Play",
        ),
        h(
          "button",
          {
            type: "button",
            class: "button small",
            testid: "history-copy",
            disabled: !text || isBusy,
            attrs: { "aria-label": "Copy the text" },
            on: { click: () => void copy(e) },
          },
          icon([...ICONS.copy]),
          " Copy",
        ),
        hasChanges
          ? h("button", {
              type: "button",
              class: `button small${toCheck > 0 && !showing ? " has-unsure" : ""}`,
              testid: "history-changes-toggle",
              disabled: isBusy,
              text: showing ? "Hide changes" : "Show changes",
              attrs: { "aria-pressed": showing ? "true" : "false", "aria-controls": bodyId, "aria-describedby": toCheck > 0 ? countId : null },
              on: {
                click: () => {
                  if (showing) showingChanges.delete(e.id);
                  else showingChanges.add(e.id);
                  render();
                  focusIn(e.id, "history-changes-toggle");
                },
              },
            })
          : null,
        h(
          "button",
          {
            type: "button",
            class: "button small",
            testid: "history-rerun",
            disabled: isBusy || isSaving,
            attrs: { "aria-label": "Transcribe the recording again", "aria-busy": isBusy ? "true" : null },
            on: { click: () => void rerun(e.id) },
          },
          isBusy ? "Re-running…" : "Re-run",
        ),
        h(
          "button",
          {
            type: "button",
            class: "icon-button",
            testid: "history-delete",
            disabled: isBusy || isSaving,
            title: "Delete",
            attrs: { "aria-label": "Delete this dictation" },
            on: {
              click: () => {
                confirming = e.id;
                render();
                focusIn(e.id, "history-delete-cancel");
              },
            },
          },
          icon([...ICONS.trash]),
        ),
      );
    }
    const note = rowMessages.get(e.id);
    return h(
      "li",
      {
        class: `history-row status-${e.status}${isBusy ? " is-busy" : ""}`,
        testid: "history-row",
        attrs: { "data-id": e.id, "data-status": e.status, "aria-busy": isBusy ? "true" : null },
      },
      h(
        "div",
        { class: "history-meta" },
        h("time", { text: formatDate(e.created), attrs: { datetime: new Date(e.created).toISOString() } }),
        h("span", { class: "muted", text: formatDuration(e.seconds) }),
        h("span", { class: `status-badge status-${e.status}`, testid: "history-status", text: STATUS_TEXT[e.status] ?? e.status }),
        models ? h("span", { class: "muted models", text: models }) : null,
        toCheck > 0
          ? h("span", {
              class: "unsure-count",
              testid: "history-unsure",
              id: countId,
              title: "Removals polishing was not sure of",
              text: toCheck === 1 ? "1 removal to check" : `${toCheck} removals to check`,
            })
          : null,
      ),
      body,
      note ? h("p", { class: "row-note", role: "status", text: note }) : null,
      h("div", { class: "history-actions" }, actions),
    );
  }

  function render(): void {
    const nodes: Node[] = entries.map(renderRow);
    if (nodes.length === 0 && loaded) nodes.push(h("li", { class: "placeholder", text: "No dictations yet." }));
    replaceChildren(list, nodes);
  }

  /** Focuses the row's element with `testid` (the one for change `index`, when given). */
  function focusIn(id: number, testid: string, index?: number): void {
    const which = index === undefined ? "" : `[data-index="${index}"]`;
    list.querySelector<HTMLElement>(`[data-id="${id}"] [data-testid="${testid}"]${which}`)?.focus();
  }

  async function refresh(): Promise<void> {
    try {
      const fresh = await api.historyList();
      // A text being saved is newer than what the list read.
      const local = new Map(entries.filter((e) => saving.has(e.id)).map((e) => [e.id, e.text]));
      entries = [...fresh].map((e) => (local.has(e.id) ? { ...e, text: local.get(e.id) ?? null } : e)).sort((a, b) => b.created - a.created);
      loaded = true;
      message.set(null);
    } catch (e) {
      message.set(errorMessage(e), "error");
    }
    render();
  }

  function stopPlaying(): void {
    if (!playing) return;
    playing.audio.pause();
    URL.revokeObjectURL(playing.url);
    playing = null;
  }

  async function play(id: number): Promise<void> {
    if (playing?.id === id) {
      stopPlaying();
      render();
      return;
    }
    stopPlaying();
    try {
      const data = await api.historyAudio(id);
      const url = URL.createObjectURL(toWavBlob(data));
      const audio = new Audio(url);
      playing = { id, audio, url };
      audio.addEventListener("ended", () => {
        if (playing?.audio === audio) {
          stopPlaying();
          render();
        }
      });
      render();
      focusIn(id, "history-play");
      await audio.play();
    } catch (e) {
      stopPlaying();
      rowMessages.set(id, errorMessage(e));
      render();
    }
  }

  async function copy(e: HistoryEntry): Promise<void> {
    try {
      await api.copyText(textOf(e));
      rowMessages.set(e.id, "Copied.");
    } catch (err) {
      rowMessages.set(e.id, errorMessage(err));
    }
    render();
    focusIn(e.id, "history-copy");
    window.setTimeout(() => {
      if (rowMessages.get(e.id) === "Copied.") {
        rowMessages.delete(e.id);
        render();
      }
    }, 2000);
  }

  async function rerun(id: number): Promise<void> {
    if (saving.has(id)) return;
    busy.add(id);
    rowMessages.delete(id);
    render();
    try {
      const fresh = await api.historyRerun(id);
      changeModels.delete(id);
      entries = entries.map((e) => (e.id === id ? fresh : e));
    } catch (e) {
      rowMessages.set(id, errorMessage(e));
    } finally {
      busy.delete(id);
      render();
      focusIn(id, "history-rerun");
    }
  }

  /** Undoes (or redoes) one change and saves the text that gives; put back as it was if the save fails. */
  async function toggleChange(id: number, model: ChangeModel, index: number): Promise<void> {
    if (saving.has(id) || busy.has(id)) return;
    const before = entries.find((e) => e.id === id)?.text ?? null;
    model.toggle(index);
    const text = model.currentText();
    const setText = (t: string | null) => (entries = entries.map((e) => (e.id === id ? { ...e, text: t } : e)));
    setText(text);
    rowMessages.delete(id);
    saving.add(id);
    render();
    focusIn(id, "change-undo", index);
    try {
      const saved = await api.historySetText(id, model.raw, text);
      // The saved entry (its changes from the raw text again); the model goes on while it matches.
      entries = entries.map((e) => (e.id === id ? saved : e));
    } catch (err) {
      model.toggle(index);
      setText(before);
      rowMessages.set(id, errorMessage(err));
    } finally {
      saving.delete(id);
      render();
      focusIn(id, "change-undo", index);
    }
  }

  async function remove(id: number): Promise<void> {
    confirming = null;
    try {
      if (playing?.id === id) stopPlaying();
      await api.historyDelete(id);
      entries = entries.filter((e) => e.id !== id);
      rowMessages.delete(id);
      changeModels.delete(id);
      showingChanges.delete(id);
    } catch (e) {
      rowMessages.set(id, errorMessage(e));
    }
    render();
    refreshButton.focus();
  }

  void on("dictation-final", () => void refresh());
  render();

  return {
    id: "history",
    el: section,
    refresh,
    activate() {
      void refresh();
    },
  };
}
