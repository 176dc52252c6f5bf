/**
 * SUMO 1.15's vType defaults per vehicle class (SUMOVTypeParameter::VClassDefaultValues and the
 * getDefaultAccel / getDefaultDecel / getDefaultEmergencyDecel / getDefaultImperfection tables), as
 * SUMO 1.15 itself reports them over TraCI (test/fixtures/krauss/vclass-defaults.sumo.json, compared
 * in vclass-defaults.test.ts). Every class has tau 1 s, speed factor mean 1 bounded to [0.2, 2]
 * (normc) and the Krauss model unless the vType says otherwise.
 */

export interface VClassDefaults {
  /** m */
  length: number;
  /** m */
  minGap: number;
  /** m/s */
  maxSpeed: number;
  /** m/s² */
  accel: number;
  decel: number;
  /** the class's emergency deceleration; a vType's default is max(its decel, this) (SUMO) */
  emergencyDecel: number;
  /** driver imperfection σ */
  sigma: number;
  /** standard deviation of the speed factor */
  speedDev: number;
}

const car = (speedDev: number): VClassDefaults => ({
  length: 5,
  minGap: 2.5,
  maxSpeed: 200 / 3.6,
  accel: 2.6,
  decel: 4.5,
  emergencyDecel: 9,
  sigma: 0.5,
  speedDev,
});

/** By SUMO class name (every class SUMO 1.15 knows, and `ignoring`). */
export const VCLASS_DEFAULTS: Readonly<Record<string, Readonly<VClassDefaults>>> = {
  passenger: car(0.1),
  private: car(0.1),
  vip: car(0.1),
  hov: car(0.1),
  custom1: car(0.1),
  custom2: car(0.1),
  evehicle: car(0.1),
  taxi: car(0.05),
  army: car(0),
  authority: car(0),
  ignoring: car(0),
  emergency: { ...car(0), length: 6.5 },
  delivery: { ...car(0.05), length: 6.5 },
  bus: {
    length: 12,
    minGap: 2.5,
    maxSpeed: 100 / 3.6,
    accel: 1.2,
    decel: 4,
    emergencyDecel: 7,
    sigma: 0.5,
    speedDev: 0,
  },
  coach: {
    length: 14,
    minGap: 2.5,
    maxSpeed: 100 / 3.6,
    accel: 2,
    decel: 4,
    emergencyDecel: 7,
    sigma: 0.5,
    speedDev: 0.05,
  },
  truck: {
    length: 7.1,
    minGap: 2.5,
    maxSpeed: 130 / 3.6,
    accel: 1.3,
    decel: 4,
    emergencyDecel: 7,
    sigma: 0.5,
    speedDev: 0.05,
  },
  trailer: {
    length: 16.5,
    minGap: 2.5,
    maxSpeed: 130 / 3.6,
    accel: 1.1,
    decel: 4,
    emergencyDecel: 7,
    sigma: 0.5,
    speedDev: 0.05,
  },
  motorcycle: {
    length: 2.2,
    minGap: 2.5,
    maxSpeed: 200 / 3.6,
    accel: 6,
    decel: 10,
    emergencyDecel: 10,
    sigma: 0.5,
    speedDev: 0.1,
  },
  moped: {
    length: 2.1,
    minGap: 2.5,
    maxSpeed: 60 / 3.6,
    accel: 1.1,
    decel: 7,
    emergencyDecel: 10,
    sigma: 0.5,
    speedDev: 0.1,
  },
  bicycle: {
    length: 1.6,
    minGap: 0.5,
    maxSpeed: 50 / 3.6,
    accel: 1.2,
    decel: 3,
    emergencyDecel: 7,
    sigma: 0.5,
    speedDev: 0.1,
  },
  pedestrian: {
    length: 0.215,
    minGap: 0.25,
    maxSpeed: 37.58 / 3.6,
    accel: 1.5,
    decel: 2,
    emergencyDecel: 5,
    sigma: 0.5,
    speedDev: 0.1,
  },
  tram: { length: 22, minGap: 2.5, maxSpeed: 80 / 3.6, accel: 1, decel: 3, emergencyDecel: 7, sigma: 0, speedDev: 0 },
  rail_urban: {
    length: 109.5,
    minGap: 5,
    maxSpeed: 100 / 3.6,
    accel: 1,
    decel: 3,
    emergencyDecel: 7,
    sigma: 0,
    speedDev: 0,
  },
  rail: {
    length: 135,
    minGap: 5,
    maxSpeed: 160 / 3.6,
    accel: 0.25,
    decel: 1.3,
    emergencyDecel: 5,
    sigma: 0,
    speedDev: 0,
  },
  rail_electric: {
    length: 200,
    minGap: 5,
    maxSpeed: 220 / 3.6,
    accel: 0.5,
    decel: 1.3,
    emergencyDecel: 5,
    sigma: 0,
    speedDev: 0,
  },
  rail_fast: {
    length: 200,
    minGap: 5,
    maxSpeed: 330 / 3.6,
    accel: 0.5,
    decel: 1.3,
    emergencyDecel: 5,
    sigma: 0,
    speedDev: 0,
  },
  ship: {
    length: 17,
    minGap: 2.5,
    maxSpeed: 8 / 1.94,
    accel: 0.1,
    decel: 0.15,
    emergencyDecel: 1,
    sigma: 0,
    speedDev: 0.1,
  },
};

/** SUMO's speed factor bounds for every class (normc(1, speedDev, 0.2, 2)). */
export const SPEED_FACTOR_MIN = 0.2;
export const SPEED_FACTOR_MAX = 2;

/** The defaults of class `name`, or undefined for a class without an entry (the caller warns and uses passenger's). */
export function vClassDefaults(name: string): Readonly<VClassDefaults> | undefined {
  return Object.prototype.hasOwnProperty.call(VCLASS_DEFAULTS, name) ? VCLASS_DEFAULTS[name] : undefined;
}
