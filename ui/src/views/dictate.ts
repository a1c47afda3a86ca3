// Dictate: the record button, the level meter, live partial text and the final text with its
// changes (each one can be undone), copy and paste.

import type { DictationPhase, DictationResult, DictationState, Level, Partial } from "../api";
import { ChangeModel } from "../lib/changes";
import { h, icon, replaceChildren, uid } from "../lib/dom";
import { errorMessage } from "../lib/errors";
import { formatDuration, formatLatency } from "../lib/format";
import { ICONS } from "../lib/icons";
import { meterFraction, meterZone, toDbfs } from "../lib/level";
import type { Services } from "../services";
import { renderChanges } from "./changeView";
import { messageArea, viewSection, type View } from "./view";

const HANDS_FREE_KEY = "scrivo.handsFree";

const STOP_REASONS: Record<DictationResult["stopReason"], string> = {
  stopped: "stopped by you",
  silence: "stopped at silence",
  timeLimit: "stopped at the time limit",
  deviceLost: "the microphone was lost",
};

export function statusText(state: DictationState): string {
  const msg = state.message?.trim();
  switch (state.phase) {
    case "loading":
      return msg || "Loading models…";
    case "recording":
      return msg ? `Listening… ${msg}` : "Listening…";
    case "transcribing":
      return msg || "Transcribing…";
    case "error":
      return msg || "Something went wrong.";
    default:
      return msg || "Ready. Press Start and speak.";
  }
}

function readHandsFree(): boolean {
  try {
    return localStorage.getItem(HANDS_FREE_KEY) === "1";
  } catch {
    return false;
  }
}

function writeHandsFree(value: boolean): void {
  try {
    localStorage.setItem(HANDS_FREE_KEY, value ? "1" : "0");
  } catch {
    /* storage may be unavailable; the choice just is not remembered */
  }
}

export interface DictateView extends View {
  /** The text copy and paste use (the final text with the undos applied). */
  currentText(): string;
  showResult(result: DictationResult): void;
  applyState(state: DictationState): void;
}

export function createDictateView(services: Services): DictateView {
  const { api, on } = services;
  const { section } = viewSection("dictate", "Dictate", "Speak; the text is transcribed on this computer.");

  let phase: DictationPhase = "idle";
  let busy = false; // a start/stop command is in flight
  let model: ChangeModel | null = null;
  let showChanges = false;

  // ---- the stage: record button, status, meter -----------------------------------------
  const recordIcon = h("span", { class: "record-icon" }, icon([...ICONS.mic]));
  const recordLabel = h("span", { class: "record-label", text: "Start" });
  const recordButton = h(
    "button",
    {
      type: "button",
      class: "record-button",
      testid: "record-button",
      attrs: { "aria-label": "Start dictation", "data-phase": "idle", "aria-describedby": "dictation-status" },
      on: { click: () => void toggleRecording() },
    },
    recordIcon,
    recordLabel,
  );

  const status = h("p", {
    class: "dictation-status",
    id: "dictation-status",
    testid: "dictation-status",
    role: "status",
    attrs: { "aria-live": "polite", "data-phase": "idle" },
    text: statusText({ phase: "idle", message: null }),
  });

  const meterFill = h("span", { class: "meter-fill" });
  const meterPeak = h("span", { class: "meter-peak" });
  const meter = h(
    "div",
    {
      class: "level-meter",
      testid: "level-meter",
      role: "meter",
      attrs: {
        "aria-label": "Input level",
        "aria-valuemin": -60,
        "aria-valuemax": 0,
        "aria-valuenow": -60,
        "aria-valuetext": "silence",
        "data-zone": "low",
      },
    },
    meterFill,
    meterPeak,
    h("span", { class: "meter-ticks", attrs: { "aria-hidden": "true" } }),
  );

  const handsFreeId = uid("hands-free");
  const handsFree = h("input", {
    type: "checkbox",
    id: handsFreeId,
    testid: "hands-free",
    checked: readHandsFree(),
    on: { change: () => writeHandsFree(handsFree.checked) },
  });
  const cancelButton = h("button", {
    type: "button",
    class: "button subtle",
    testid: "dictation-cancel",
    text: "Cancel",
    hidden: true,
    attrs: { "aria-label": "Cancel dictation (discard the recording)" },
    on: { click: () => void cancel() },
  });

  const stage = h(
    "div",
    { class: "dictate-stage" },
    recordButton,
    h(
      "div",
      { class: "dictate-side" },
      status,
      meter,
      h("div", { class: "dictate-options" }, h("label", { class: "check", for: handsFreeId }, handsFree, " Hands-free (stop when I stop speaking)"), cancelButton),
    ),
  );

  // ---- live partial text ---------------------------------------------------------------
  const committed = h("span", { class: "partial-committed" });
  const tentative = h("span", { class: "partial-tentative" });
  const partial = h(
    "p",
    { class: "partial-text", testid: "partial-text", attrs: { "aria-live": "off", "aria-label": "Live transcript" } },
    committed,
    " ",
    tentative,
  );

  // ---- the result ----------------------------------------------------------------------
  const rawToggle = h("button", {
    type: "button",
    class: "button",
    testid: "raw-toggle",
    text: "Show changes",
    disabled: true,
    attrs: { "aria-pressed": "false", "aria-controls": "final-text" },
    on: { click: () => setShowChanges(!showChanges) },
  });
  // How many removals polishing was not sure of are still made: announced politely, and named
  // by the toggle's description so its own label stays "Show changes".
  const unsureCount = h("span", {
    class: "unsure-count",
    testid: "unsure-count",
    hidden: true,
    attrs: { id: "unsure-count", role: "status" },
  });
  rawToggle.setAttribute("aria-describedby", "unsure-count");
  const undoAll = h("button", {
    type: "button",
    class: "button subtle",
    testid: "undo-all",
    text: "Undo all",
    hidden: true,
    on: {
      click: () => {
        if (!model) return;
        if (model.undoneCount() === model.undoableIndices().length) model.redoAll();
        else model.undoAll();
        renderFinal();
      },
    },
  });
  const copyButton = h(
    "button",
    { type: "button", class: "button", testid: "copy-button", disabled: true, on: { click: () => void copy() } },
    icon([...ICONS.copy]),
    " Copy",
  );
  const pasteButton = h(
    "button",
    {
      type: "button",
      class: "button primary",
      testid: "paste-button",
      disabled: true,
      title: "Type the text into the window that had the focus",
      on: { click: () => void paste() },
    },
    "Paste",
  );
  const finalText = h("div", {
    class: "final-text is-empty",
    id: "final-text",
    testid: "final-text",
    attrs: { "aria-live": "polite", "aria-label": "Final text", "data-mode": "polished" },
    text: "Your text appears here.",
  });
  const meta = h("p", { class: "result-meta", testid: "dictation-latency", hidden: true });
  const warning = h("p", { class: "message message-warning", testid: "dictation-warning", role: "alert", hidden: true });
  const message = messageArea("paste-message");

  const result = h(
    "div",
    { class: "card result-card" },
    h("div", { class: "toolbar" }, h("h3", { class: "card-title", text: "Text" }), h("span", { class: "spacer" }), unsureCount, rawToggle, undoAll, copyButton, pasteButton),
    finalText,
    meta,
    warning,
    message,
  );

  section.append(stage, partial, result);

  // ---- behaviour -----------------------------------------------------------------------
  function applyState(state: DictationState): void {
    const previous = phase;
    phase = state.phase;
    busy = false;
    status.textContent = statusText(state);
    status.dataset.phase = phase;
    status.classList.toggle("is-error", phase === "error");
    section.dataset.phase = phase;
    if ((phase === "loading" || phase === "recording") && (previous === "idle" || previous === "error")) {
      setPartial({ committed: "", tentative: "", secondsSinceSpeech: 0 });
    }
    if (phase !== "recording") setLevel({ rms: 0, peak: 0 });
    renderButton();
  }

  function renderButton(): void {
    const recording = phase === "recording";
    const working = phase === "loading" || phase === "transcribing";
    recordButton.dataset.phase = phase;
    recordButton.classList.toggle("is-recording", recording);
    recordLabel.textContent = recording ? "Stop" : phase === "loading" ? "Loading…" : phase === "transcribing" ? "Working…" : "Start";
    recordButton.setAttribute("aria-label", recording ? "Stop dictation" : working ? "Dictation busy" : "Start dictation");
    recordButton.setAttribute("aria-pressed", recording ? "true" : "false");
    recordButton.disabled = working || busy;
    replaceChildren(recordIcon, icon([...(recording ? ICONS.stop : ICONS.mic)]));
    cancelButton.hidden = !(recording || working);
  }

  async function toggleRecording(): Promise<void> {
    if (busy) return;
    message.set(null);
    busy = true;
    renderButton();
    try {
      if (phase === "recording") await api.dictationStop();
      else await api.dictationStart({ handsFree: handsFree.checked });
    } catch (e) {
      status.textContent = errorMessage(e);
      status.classList.add("is-error");
    } finally {
      busy = false;
      renderButton();
    }
  }

  async function cancel(): Promise<void> {
    try {
      await api.dictationCancel();
    } catch (e) {
      status.textContent = errorMessage(e);
      status.classList.add("is-error");
    }
  }

  function setLevel(level: Level): void {
    const fraction = meterFraction(level.rms);
    meterFill.style.transform = `scaleX(${fraction.toFixed(3)})`;
    meterPeak.style.left = `${(meterFraction(level.peak) * 100).toFixed(1)}%`;
    const db = Math.round(toDbfs(level.rms));
    meter.setAttribute("aria-valuenow", String(db));
    meter.setAttribute("aria-valuetext", level.rms > 0 ? `${db} dBFS` : "silence");
    meter.dataset.zone = meterZone(level.peak);
  }

  function setPartial(p: Partial): void {
    committed.textContent = p.committed;
    tentative.textContent = p.tentative;
    partial.classList.toggle("is-empty", !p.committed && !p.tentative);
  }

  function setShowChanges(value: boolean): void {
    showChanges = value;
    rawToggle.setAttribute("aria-pressed", value ? "true" : "false");
    renderFinal();
  }

  function renderFinal(): void {
    if (!model) return;
    const text = model.currentText();
    const changes = model.hasChanges();
    finalText.classList.toggle("is-empty", false);
    rawToggle.disabled = !changes;
    // Removals polishing was not sure of are not made silently: how many are left to check.
    const toCheck = model.unsureIndices().length;
    rawToggle.textContent = showChanges ? "Hide changes" : "Show changes";
    rawToggle.classList.toggle("has-unsure", toCheck > 0 && !showChanges);
    unsureCount.hidden = toCheck === 0;
    unsureCount.textContent = toCheck === 1 ? "1 removal to check" : `${toCheck} removals to check`;
    unsureCount.title = "Changes polishing was not sure of";
    undoAll.hidden = !(showChanges && changes);
    undoAll.textContent = model.undoneCount() === model.undoableIndices().length ? "Redo all" : "Undo all";
    // Announce a new text, not every undo in the changes view.
    finalText.setAttribute("aria-live", showChanges && changes ? "off" : "polite");
    if (showChanges && changes) {
      finalText.dataset.mode = "changes";
      renderChanges(finalText, model, {
        onToggle: (index) => {
          model?.toggle(index);
          renderFinal();
          // Keep the keyboard where it was: the button for the same change.
          const again = finalText.querySelector<HTMLButtonElement>(`[data-testid="change-undo"][data-index="${index}"]`);
          again?.focus();
        },
      });
    } else {
      finalText.dataset.mode = "polished";
      finalText.textContent = text || "(nothing was heard)";
      finalText.classList.toggle("is-empty", !text);
    }
    finalText.dataset.undone = String(model.undoneCount());
    copyButton.disabled = !text;
    pasteButton.disabled = !text;
  }

  function showResult(r: DictationResult): void {
    model = new ChangeModel(r.raw, r.text, r.changes);
    setPartial({ committed: "", tentative: "", secondsSinceSpeech: 0 });
    message.set(null);
    const bits = [`${formatDuration(r.seconds)} of audio`, `ready in ${formatLatency(r.latencyMs)}`, STOP_REASONS[r.stopReason] ?? r.stopReason];
    const count = model.undoableIndices().length;
    if (count > 0) bits.push(`${count} ${count === 1 ? "change" : "changes"}`);
    meta.textContent = bits.join(" · ");
    meta.hidden = false;
    warning.textContent = r.warning ?? "";
    warning.hidden = !r.warning;
    renderFinal();
  }

  function currentText(): string {
    return model ? model.currentText() : "";
  }

  async function copy(): Promise<void> {
    const text = currentText();
    if (!text) return;
    try {
      await api.copyText(text);
      message.set("Copied to the clipboard.", "ok");
    } catch (e) {
      message.set(errorMessage(e), "error");
    }
  }

  async function paste(): Promise<void> {
    const text = currentText();
    if (!text) return;
    pasteButton.disabled = true;
    try {
      const outcome = await api.pasteText(text);
      message.set(outcome.message || `Pasted (${outcome.method}).`, outcome.method === "clipboard" ? "info" : "ok");
    } catch (e) {
      message.set(errorMessage(e), "error");
    } finally {
      pasteButton.disabled = !currentText();
    }
  }

  void on("dictation-state", applyState);
  void on("dictation-level", setLevel);
  void on("dictation-partial", setPartial);
  void on("dictation-final", showResult);
  // The tray or a global shortcut started or stopped dictation; the back end does it and reports
  // the new phase through dictation-state. Until then, show that something is happening.
  void on("dictation-toggle", () => {
    recordButton.classList.add("is-pending");
    window.setTimeout(() => recordButton.classList.remove("is-pending"), 600);
  });

  setLevel({ rms: 0, peak: 0 });
  setPartial({ committed: "", tentative: "", secondsSinceSpeech: 0 });
  renderButton();

  return {
    id: "dictate",
    el: section,
    currentText,
    showResult,
    applyState,
  };
}
