// The level meter's scale: a linear amplitude (0..1, 1 = full scale) shown in dBFS, from
// FLOOR_DB (an empty bar) to 0 dBFS (a full bar).

export const FLOOR_DB = -60;

/** Amplitude -> dBFS, clamped to FLOOR_DB..0 (silence and bad input give the floor). */
export function toDbfs(amplitude: number): number {
  if (!Number.isFinite(amplitude) || amplitude <= 0) return FLOOR_DB;
  const db = 20 * Math.log10(amplitude);
  return Math.max(FLOOR_DB, Math.min(0, db));
}

/** Amplitude -> the filled fraction of the bar (0..1), linear in dB. */
export function meterFraction(amplitude: number): number {
  return (toDbfs(amplitude) - FLOOR_DB) / -FLOOR_DB;
}

/** Which colour band a level falls in: quiet speech is fine, near full scale clips. */
export function meterZone(amplitude: number): "low" | "ok" | "hot" {
  const db = toDbfs(amplitude);
  if (db >= -3) return "hot";
  if (db >= -40) return "ok";
  return "low";
}
