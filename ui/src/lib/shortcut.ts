// Turns a key press into a Tauri global-shortcut accelerator ("CommandOrControl+Shift+Space").
// Modifiers come first in a fixed order, then one key named by its physical position (code), so
// the string does not depend on the keyboard layout or on what Shift does to the character.

export interface KeyLike {
  key: string;
  code: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

const MODIFIER_KEYS = new Set(["Shift", "Control", "Alt", "AltGraph", "Meta", "OS", "Super", "Hyper", "Fn", "CapsLock"]);
const MODIFIER_CODE = /^(Shift|Control|Alt|Meta|OS|Super)(Left|Right)?$/;

const NAMED_CODES: Record<string, string> = {
  ArrowUp: "Up",
  ArrowDown: "Down",
  ArrowLeft: "Left",
  ArrowRight: "Right",
  Escape: "Escape",
  Space: "Space",
  Enter: "Enter",
  NumpadEnter: "Enter",
  Tab: "Tab",
  Backspace: "Backspace",
  Delete: "Delete",
  Insert: "Insert",
  Home: "Home",
  End: "End",
  PageUp: "PageUp",
  PageDown: "PageDown",
  PrintScreen: "PrintScreen",
  ScrollLock: "ScrollLock",
  Pause: "Pause",
  Minus: "Minus",
  Equal: "Equal",
  Comma: "Comma",
  Period: "Period",
  Slash: "Slash",
  Backslash: "Backslash",
  Semicolon: "Semicolon",
  Quote: "Quote",
  BracketLeft: "BracketLeft",
  BracketRight: "BracketRight",
  Backquote: "Backquote",
};

/** The accelerator name of a physical key, or null for keys a shortcut cannot use. */
export function keyName(code: string, key = ""): string | null {
  let m = /^Key([A-Z])$/.exec(code);
  if (m) return m[1];
  m = /^Digit([0-9])$/.exec(code);
  if (m) return m[1];
  m = /^F([1-9]|1[0-9]|2[0-4])$/.exec(code);
  if (m) return code;
  m = /^Numpad([0-9])$/.exec(code);
  if (m) return `Num${m[1]}`;
  if (code in NAMED_CODES) return NAMED_CODES[code];
  // No usable code (some virtual keyboards): fall back on a printable letter or digit.
  if (!code && /^[a-zA-Z0-9]$/.test(key)) return key.toUpperCase();
  return null;
}

export function isModifierOnly(e: Pick<KeyLike, "key" | "code">): boolean {
  return MODIFIER_KEYS.has(e.key) || MODIFIER_CODE.test(e.code);
}

/**
 * The accelerator for a key press, or null while only modifiers are held or the key is unusable.
 * On macOS Cmd is "CommandOrControl" and Ctrl is "Control"; elsewhere Ctrl is "CommandOrControl"
 * and the Windows/Super key is "Super". Order: CommandOrControl, Control, Super, Alt, Shift, key.
 */
export function eventToAccelerator(e: KeyLike, isMac = false): string | null {
  if (isModifierOnly(e)) return null;
  const key = keyName(e.code, e.key);
  if (!key) return null;
  const parts: string[] = [];
  if (isMac) {
    if (e.metaKey) parts.push("CommandOrControl");
    if (e.ctrlKey) parts.push("Control");
  } else {
    if (e.ctrlKey) parts.push("CommandOrControl");
    if (e.metaKey) parts.push("Super");
  }
  if (e.altKey) parts.push("Alt");
  if (e.shiftKey) parts.push("Shift");
  parts.push(key);
  return parts.join("+");
}

/** Whether an accelerator is safe as a global shortcut: it needs a modifier, unless it is F1..F24. */
export function isUsableShortcut(accelerator: string): boolean {
  const parts = accelerator.split("+");
  if (parts.length === 0 || !parts[parts.length - 1]) return false;
  if (parts.length > 1) return true;
  return /^F([1-9]|1[0-9]|2[0-4])$/.test(parts[0]);
}

/** A friendlier spelling for display: "Ctrl+Shift+Space" (or "⌘⇧Space"-like names on macOS). */
export function describeAccelerator(accelerator: string, isMac = false): string {
  if (!accelerator) return "";
  return accelerator
    .split("+")
    .map((part) => {
      switch (part) {
        case "CommandOrControl":
        case "CmdOrCtrl":
          return isMac ? "Cmd" : "Ctrl";
        case "Control":
          return "Ctrl";
        case "Super":
          return isMac ? "Cmd" : "Super";
        case "Alt":
          return isMac ? "Option" : "Alt";
        default:
          return part;
      }
    })
    .join("+");
}
