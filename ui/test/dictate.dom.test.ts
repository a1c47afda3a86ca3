// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from "vitest";
import type { DictationResult } from "../src/api";
import { createDictateView, statusText } from "../src/views/dictate";
import { allByTestId, byTestId, fakeServices, settle, type FakeServices } from "./fakes";

const result: DictationResult = {
  historyId: 7,
  raw: "um so we ship on friday",
  text: "So we ship on Friday.",
  changes: [
    { kind: "removed", raw: "um", polished: "", unsure: false },
    { kind: "replaced", raw: "so", polished: "So", unsure: false },
    { kind: "same", raw: "we ship on", polished: "we ship on", unsure: false },
    { kind: "replaced", raw: "friday", polished: "Friday.", unsure: false },
  ],
  seconds: 3.2,
  latencyMs: 850,
  stopReason: "silence",
  warning: "The microphone was unplugged; what was captured is kept.",
};

describe("Dictate view", () => {
  let services: FakeServices;
  let root: HTMLElement;

  beforeEach(() => {
    document.body.replaceChildren();
    localStorage.clear();
    services = fakeServices({
      dictationStart: async () => {},
      dictationStop: async () => {},
      copyText: async () => {},
      pasteText: async () => ({ method: "clipboard", message: "Copied; press Ctrl+V to paste." }),
    });
    const view = createDictateView(services);
    root = view.el;
    document.body.appendChild(root);
  });

  it("drives the record button from dictation-state", async () => {
    const button = byTestId<HTMLButtonElement>(root, "record-button");
    expect(button.getAttribute("aria-label")).toBe("Start dictation");
    byTestId<HTMLInputElement>(root, "hands-free").checked = true;
    button.click();
    await settle();
    expect(services.api.dictationStart).toHaveBeenCalledWith({ handsFree: true });

    services.emit("dictation-state", { phase: "loading", message: null });
    expect(byTestId(root, "dictation-status").textContent).toBe("Loading models…");
    expect(button.disabled).toBe(true);

    services.emit("dictation-state", { phase: "recording", message: null });
    expect(button.textContent).toContain("Stop");
    expect(button.getAttribute("aria-label")).toBe("Stop dictation");
    expect(byTestId(root, "dictation-status").textContent).toBe("Listening…");
    button.click();
    await settle();
    expect(services.api.dictationStop).toHaveBeenCalledTimes(1);

    services.emit("dictation-state", { phase: "error", message: "No microphone found" });
    expect(byTestId(root, "dictation-status").textContent).toBe("No microphone found");
    expect(button.textContent).toContain("Start");
    expect(button.disabled).toBe(false);
  });

  it("shows a command failure inline", async () => {
    services.api.dictationStart.mockRejectedValueOnce({ message: "model not installed" });
    byTestId<HTMLButtonElement>(root, "record-button").click();
    await settle();
    expect(byTestId(root, "dictation-status").textContent).toBe("model not installed");
  });

  it("shows the level on a dB scale and the partial text", () => {
    services.emit("dictation-state", { phase: "recording", message: null });
    services.emit("dictation-level", { rms: 0.1, peak: 0.5 });
    const meter = byTestId(root, "level-meter");
    expect(meter.getAttribute("aria-valuenow")).toBe("-20");
    expect((meter.querySelector(".meter-fill") as HTMLElement).style.transform).toBe("scaleX(0.667)");
    services.emit("dictation-partial", { committed: "we ship", tentative: "on fri", secondsSinceSpeech: 0.2 });
    const partial = byTestId(root, "partial-text");
    expect(partial.querySelector(".partial-committed")?.textContent).toBe("we ship");
    expect(partial.querySelector(".partial-tentative")?.textContent).toBe("on fri");
  });

  it("renders a final result; undo puts raw words back into what copy uses", async () => {
    services.emit("dictation-final", result);
    const final = byTestId(root, "final-text");
    expect(final.textContent).toBe("So we ship on Friday.");
    expect(byTestId(root, "dictation-latency").textContent).toContain("850 ms");
    expect(byTestId(root, "dictation-warning").textContent).toContain("unplugged");

    byTestId<HTMLButtonElement>(root, "raw-toggle").click();
    expect(final.dataset.mode).toBe("changes");
    const undos = allByTestId<HTMLButtonElement>(final, "change-undo");
    expect(undos).toHaveLength(3);
    expect(final.querySelectorAll("del").length).toBe(3); // um, so, friday
    expect(final.querySelectorAll("ins").length).toBe(2); // So, Friday.

    undos[0].click(); // bring "um" back
    byTestId<HTMLButtonElement>(root, "copy-button").click();
    await settle();
    expect(services.api.copyText).toHaveBeenLastCalledWith("um So we ship on Friday.");
    expect(final.querySelector('[data-testid="change-undo"][data-index="0"]')?.getAttribute("aria-pressed")).toBe("true");

    // redo it, undo the last one
    allByTestId<HTMLButtonElement>(final, "change-undo")[0].click();
    allByTestId<HTMLButtonElement>(final, "change-undo")[2].click();
    byTestId<HTMLButtonElement>(root, "raw-toggle").click();
    expect(final.dataset.mode).toBe("polished");
    expect(final.textContent).toBe("So we ship on friday");

    byTestId<HTMLButtonElement>(root, "paste-button").click();
    await settle();
    expect(services.api.pasteText).toHaveBeenCalledWith("So we ship on friday");
    expect(byTestId(root, "paste-message").textContent).toBe("Copied; press Ctrl+V to paste.");
  });

  it("says how many removals polishing was not sure of, and outlines them", () => {
    const unsure: DictationResult = {
      ...result,
      raw: "so we ship I guess on friday",
      text: "So we ship on Friday.",
      changes: [
        { kind: "replaced", raw: "so", polished: "So", unsure: false },
        { kind: "same", raw: "we ship", polished: "we ship", unsure: false },
        { kind: "removed", raw: "I guess", polished: "", unsure: true },
        { kind: "same", raw: "on", polished: "on", unsure: false },
        { kind: "replaced", raw: "friday", polished: "Friday.", unsure: false },
      ],
    };
    services.emit("dictation-final", unsure);
    const toggle = byTestId<HTMLButtonElement>(root, "raw-toggle");
    const count = byTestId(root, "unsure-count");
    expect(toggle.textContent).toBe("Show changes");
    expect(toggle.classList.contains("has-unsure")).toBe(true);
    expect(toggle.getAttribute("aria-describedby")).toBe("unsure-count");
    expect(count.hidden).toBe(false);
    expect(count.textContent).toBe("1 removal to check");
    expect(count.getAttribute("role")).toBe("status");

    toggle.click();
    const final = byTestId(root, "final-text");
    const marked = final.querySelectorAll<HTMLElement>(".change.is-unsure");
    expect(marked).toHaveLength(1);
    expect(marked[0].dataset.unsure).toBe("true");
    expect(marked[0].textContent).toContain("I guess");
    const undo = marked[0].querySelector<HTMLButtonElement>('[data-testid="change-undo"]');
    expect(undo?.getAttribute("aria-label")).toBe("Undo: “I guess” removed (Scrivo was not sure of this change)");

    expect(count.hidden).toBe(false); // still counted while the changes are shown
    undo?.click(); // put it back: nothing is left to check
    expect(final.querySelectorAll(".change.is-unsure")).toHaveLength(0);
    expect(count.hidden).toBe(true);
    toggle.click();
    expect(toggle.textContent).toBe("Show changes");
    expect(toggle.classList.contains("has-unsure")).toBe(false);
    expect(final.textContent).toBe("So we ship I guess on Friday.");
  });

  it("has the right words for every phase", () => {
    expect(statusText({ phase: "transcribing", message: null })).toBe("Transcribing…");
    expect(statusText({ phase: "recording", message: "12 s left" })).toBe("Listening… 12 s left");
  });
});
