import { describe, expect, it } from "vitest";
import { FLOOR_DB, meterFraction, meterZone, toDbfs } from "../src/lib/level";

describe("level meter scale", () => {
  it("maps amplitude to dBFS", () => {
    expect(toDbfs(1)).toBe(0);
    expect(toDbfs(0.1)).toBeCloseTo(-20, 6);
    expect(toDbfs(0.01)).toBeCloseTo(-40, 6);
    expect(toDbfs(0.5)).toBeCloseTo(-6.0206, 3);
  });

  it("clamps to -60..0 and handles silence and bad values", () => {
    expect(toDbfs(0)).toBe(FLOOR_DB);
    expect(toDbfs(1e-9)).toBe(-60);
    expect(toDbfs(-0.5)).toBe(-60);
    expect(toDbfs(Number.NaN)).toBe(-60);
    expect(toDbfs(2)).toBe(0);
  });

  it("fills the bar linearly in dB", () => {
    expect(meterFraction(0)).toBe(0);
    expect(meterFraction(0.001)).toBeCloseTo(0, 6); // -60 dB
    expect(meterFraction(0.01)).toBeCloseTo(1 / 3, 6); // -40 dB
    expect(meterFraction(0.1)).toBeCloseTo(2 / 3, 6); // -20 dB
    expect(meterFraction(1)).toBe(1);
  });

  it("colours quiet, normal and near-clipping levels", () => {
    expect(meterZone(0.001)).toBe("low");
    expect(meterZone(0.1)).toBe("ok");
    expect(meterZone(0.9)).toBe("hot");
  });
});
