/**
 * SUMO's vehicle classes (SUMO 1.15, `SUMOVehicleClass.cpp`) as bits of one 32-bit mask, so that a
 * lane's permissions are one `Uint32Array` entry and a check is one AND in the hot loop.
 *
 * SUMO's `allow`/`disallow` attributes name classes separated by spaces; `all` means every class;
 * SUMO's extra group names (`custom1`, `custom2`) are classes too. Unknown names are returned to the
 * caller so that the importer can warn with file and line.
 */

/** Every class SUMO 1.15 knows, in SUMO's bit order (the index is the bit). */
export const VCLASSES = [
  'private',
  'emergency',
  'authority',
  'army',
  'vip',
  'pedestrian',
  'passenger',
  'hov',
  'taxi',
  'bus',
  'coach',
  'delivery',
  'truck',
  'trailer',
  'motorcycle',
  'moped',
  'bicycle',
  'evehicle',
  'tram',
  'rail_urban',
  'rail',
  'rail_electric',
  'rail_fast',
  'ship',
  'custom1',
  'custom2',
] as const;
export type VClassName = (typeof VCLASSES)[number];

const BIT = new Map<string, number>(VCLASSES.map((name, i) => [name, i]));

/** Mask with every class allowed. */
export const ALL_CLASSES = (1 << VCLASSES.length) - 1;

/** The bit of a class name, or -1 for a name SUMO does not know. */
export function vClassBit(name: string): number {
  return BIT.get(name) ?? -1;
}

/** The mask of a vehicle's class (0 for an unknown name); `ignoring` may use every lane, as in SUMO. */
export function vClassMask(name: string): number {
  if (name === 'ignoring') return ALL_CLASSES;
  const b = vClassBit(name);
  return b < 0 ? 0 : (1 << b) >>> 0;
}

/**
 * The permission mask of a lane from SUMO's `allow`/`disallow` lists (undefined: attribute absent).
 * `allow` wins when both are given, as in SUMO's parser. Unknown class names are collected in
 * `unknown` (if given) and otherwise ignored.
 */
export function permissionMask(
  allow: readonly string[] | undefined,
  disallow: readonly string[] | undefined,
  unknown?: string[],
): number {
  const maskOf = (names: readonly string[]): number => {
    let m = 0;
    for (const n of names) {
      if (n === 'all') return ALL_CLASSES;
      const b = vClassBit(n);
      if (b < 0) unknown?.push(n);
      else m |= 1 << b;
    }
    return m >>> 0;
  };
  if (allow !== undefined) return maskOf(allow);
  if (disallow !== undefined) return (ALL_CLASSES & ~maskOf(disallow)) >>> 0;
  return ALL_CLASSES;
}

/** Does a lane with permission mask `lanePerm` let a vehicle of class mask `cls` drive on it? */
export function permits(lanePerm: number, cls: number): boolean {
  return (lanePerm & cls) !== 0;
}
