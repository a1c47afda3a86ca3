import { describe, expect, it } from "vitest";
import { describeAccelerator, eventToAccelerator, isModifierOnly, isUsableShortcut, keyName, type KeyLike } from "../src/lib/shortcut";

function key(code: string, mods: Partial<Omit<KeyLike, "code">> = {}): KeyLike {
  return { key: mods.key ?? "", code, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods };
}

describe("eventToAccelerator", () => {
  it("builds the accelerator with modifiers in a fixed order", () => {
    expect(eventToAccelerator(key("Space", { key: " ", ctrlKey: true, shiftKey: true }))).toBe("CommandOrControl+Shift+Space");
    expect(eventToAccelerator(key("KeyD", { key: "D", shiftKey: true, ctrlKey: true }))).toBe("CommandOrControl+Shift+D");
    expect(eventToAccelerator(key("KeyK", { key: "k", altKey: true, shiftKey: true, ctrlKey: true, metaKey: true }))).toBe("CommandOrControl+Super+Alt+Shift+K");
  });

  it("on macOS Cmd is CommandOrControl and Ctrl is Control", () => {
    expect(eventToAccelerator(key("Space", { metaKey: true, shiftKey: true }), true)).toBe("CommandOrControl+Shift+Space");
    expect(eventToAccelerator(key("KeyA", { ctrlKey: true, metaKey: true }), true)).toBe("CommandOrControl+Control+A");
  });

  it("ignores lone modifiers", () => {
    expect(eventToAccelerator(key("ShiftLeft", { key: "Shift", shiftKey: true }))).toBeNull();
    expect(eventToAccelerator(key("ControlRight", { key: "Control", ctrlKey: true }))).toBeNull();
    expect(eventToAccelerator(key("AltLeft", { key: "Alt", altKey: true, ctrlKey: true }))).toBeNull();
    expect(eventToAccelerator(key("MetaLeft", { key: "Meta", metaKey: true }))).toBeNull();
    expect(isModifierOnly({ key: "AltGraph", code: "AltRight" })).toBe(true);
    expect(isModifierOnly({ key: "a", code: "KeyA" })).toBe(false);
  });

  it("names keys by position, not by the character typed", () => {
    // Shift+1 types "!" but the key is Digit1; AZERTY's A key sends code KeyQ.
    expect(eventToAccelerator(key("Digit1", { key: "!", ctrlKey: true, shiftKey: true }))).toBe("CommandOrControl+Shift+1");
    expect(eventToAccelerator(key("KeyQ", { key: "a", altKey: true }))).toBe("Alt+Q");
    expect(eventToAccelerator(key("F9", { key: "F9" }))).toBe("F9");
    expect(eventToAccelerator(key("ArrowUp", { ctrlKey: true }))).toBe("CommandOrControl+Up");
    expect(eventToAccelerator(key("Numpad5", { altKey: true }))).toBe("Alt+Num5");
    expect(eventToAccelerator(key("Comma", { ctrlKey: true }))).toBe("CommandOrControl+Comma");
  });

  it("rejects keys without a usable name", () => {
    expect(eventToAccelerator(key("IntlRo", { key: "\\", ctrlKey: true }))).toBeNull();
    expect(keyName("", "x")).toBe("X");
    expect(keyName("", "é")).toBeNull();
  });
});

describe("isUsableShortcut", () => {
  it("needs a modifier unless it is a function key", () => {
    expect(isUsableShortcut("CommandOrControl+Shift+Space")).toBe(true);
    expect(isUsableShortcut("F9")).toBe(true);
    expect(isUsableShortcut("A")).toBe(false);
    expect(isUsableShortcut("Space")).toBe(false);
    expect(isUsableShortcut("")).toBe(false);
  });
});

describe("describeAccelerator", () => {
  it("spells modifiers for people", () => {
    expect(describeAccelerator("CommandOrControl+Shift+Space")).toBe("Ctrl+Shift+Space");
    expect(describeAccelerator("CommandOrControl+Alt+D", true)).toBe("Cmd+Option+D");
  });
});
