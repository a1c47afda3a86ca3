// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from "vitest";
import type { ModelRow, Settings } from "../src/api";
import { createSettingsView } from "../src/views/settings";
import { allByTestId, byTestId, defaultSettings, fakeServices, settle } from "./fakes";

const settings: Settings = defaultSettings({ inputDevice: "USB Mic" });

const models: ModelRow[] = [
  { id: "whisper-base.en", role: "asr", installed: true, isDefault: true, sizeBytes: 147_000_000, residentBytes: 210_000_000, loaded: true },
  { id: "qwen-0.5b-q4", role: "polish", installed: false, isDefault: true, sizeBytes: 398_000_000, residentBytes: null, loaded: false },
];

function setup() {
  const services = fakeServices({
    settingsGet: async () => structuredClone(settings),
    settingsSet: async (s: Settings) => s,
    devices: async () => [
      { name: "Built-in", isDefault: true },
      { name: "USB Mic", isDefault: false },
    ],
    models: async () => structuredClone(models),
    modelFetch: async () => {},
    modelRemove: async () => {},
    modelImport: async () => {},
  });
  const view = createSettingsView(services);
  document.body.appendChild(view.el);
  return { services, view, root: view.el };
}

function press(el: HTMLElement, init: KeyboardEventInit): void {
  el.dispatchEvent(new KeyboardEvent("keydown", { bubbles: true, cancelable: true, ...init }));
}

describe("Settings view", () => {
  beforeEach(() => document.body.replaceChildren());

  it("fills the form, captures a shortcut and saves", async () => {
    const { view, root, services } = setup();
    await view.load();
    const device = byTestId<HTMLSelectElement>(root, "settings-device");
    expect([...device.options].map((o) => o.textContent)).toEqual(["System default", "Built-in (default)", "USB Mic"]);
    expect(device.value).toBe("USB Mic");
    expect(byTestId<HTMLInputElement>(root, "settings-budget").value).toBe("2048");

    const toggle = byTestId<HTMLInputElement>(root, "settings-shortcut-toggle");
    expect(toggle.value).toBe("CommandOrControl+Shift+Space");
    toggle.focus();
    press(toggle, { key: "Control", code: "ControlLeft", ctrlKey: true });
    expect(toggle.value).toBe("CommandOrControl+…");
    press(toggle, { key: "K", code: "KeyK", ctrlKey: true, altKey: true });
    expect(toggle.value).toBe("CommandOrControl+Alt+K");
    // a lone letter is refused
    const ptt = byTestId<HTMLInputElement>(root, "settings-shortcut-ptt");
    press(ptt, { key: "a", code: "KeyA" });
    expect(ptt.parentElement!.querySelector<HTMLElement>('[data-testid="field-error"]')!.hidden).toBe(false);

    device.value = "";
    byTestId<HTMLInputElement>(root, "settings-budget").value = "1024";
    const style = byTestId<HTMLSelectElement>(root, "settings-style");
    expect(style.disabled).toBe(false);
    style.value = "verbatim";
    const polish = byTestId<HTMLInputElement>(root, "settings-polish");
    polish.checked = false;
    polish.dispatchEvent(new Event("change"));
    expect(style.disabled).toBe(true);
    byTestId<HTMLInputElement>(root, "settings-login").checked = true;
    byTestId<HTMLButtonElement>(root, "settings-save").click();
    await settle();
    expect(services.api.settingsSet).toHaveBeenCalledWith({
      ...settings,
      inputDevice: null,
      memoryBudgetMb: 1024,
      polish: false,
      style: "verbatim",
      startAtLogin: true,
      shortcutToggle: "CommandOrControl+Alt+K",
    });
    expect(byTestId(root, "settings-message").textContent).toBe("Settings saved.");
  });

  it("refuses a bad number inline", async () => {
    const { view, root, services } = setup();
    await view.load();
    byTestId<HTMLInputElement>(root, "settings-budget").value = "-3";
    byTestId<HTMLButtonElement>(root, "settings-save").click();
    await settle();
    expect(services.api.settingsSet).not.toHaveBeenCalled();
    expect(byTestId<HTMLInputElement>(root, "settings-budget").getAttribute("aria-invalid")).toBe("true");
  });

  it("shows models, fetch progress and remove with a confirm", async () => {
    const { view, root, services } = setup();
    let finish: () => void = () => {};
    services.api.modelFetch.mockImplementationOnce(() => new Promise<void>((r) => (finish = r)));
    await view.load();
    const rows = allByTestId(root, "model-row");
    expect(rows.map((r) => r.dataset.id)).toEqual(["whisper-base.en", "qwen-0.5b-q4"]);
    expect(rows[0].textContent).toContain("Speech");
    expect(rows[0].textContent).toContain("loaded, 210 MB");
    expect(rows[1].textContent).toContain("Polishing");
    rows[1].querySelector<HTMLButtonElement>('[data-testid="model-fetch"]')!.click();
    services.emit("model-progress", { id: "qwen-0.5b-q4", done: 100_000_000, total: 400_000_000, stage: "downloading" });
    const bar = byTestId<HTMLProgressElement>(root, "model-progress");
    expect(bar.value).toBeCloseTo(0.25);
    finish();
    await settle();
    expect(root.querySelector('[data-testid="model-progress"]')).toBeNull();
    expect(services.api.models).toHaveBeenCalledTimes(2);

    allByTestId(root, "model-row")[0].querySelector<HTMLButtonElement>('[data-testid="model-remove"]')!.click();
    expect(services.api.modelRemove).not.toHaveBeenCalled();
    byTestId<HTMLButtonElement>(root, "model-remove-confirm").click();
    await settle();
    expect(services.api.modelRemove).toHaveBeenCalledWith("whisper-base.en");
  });
});
