/**
 * Per-vehicle trip records (SUMO's tripinfo), indexed by demand index. Written at departure and
 * arrival; means in the summary are taken over arrived vehicles in demand order, so they do not
 * depend on the order in which vehicles arrived within a step or on which process saw them.
 */
export class TripRecords {
  readonly departStep: Int32Array;
  readonly departLane: Int32Array;
  readonly departPos: Float64Array;
  readonly departSpeed: Float64Array;
  readonly arrivalStep: Int32Array;
  readonly arrivalLane: Int32Array;
  readonly arrivalPos: Float64Array;
  readonly arrivalSpeed: Float64Array;
  readonly routeLength: Float64Array;
  readonly waitSteps: Int32Array;
  readonly waitCount: Int32Array;
  readonly timeLoss: Float64Array;
  readonly teleports: Int32Array;
  /** s it stood at its stops (SUMO's tripinfo stopTime) */
  readonly stopTime: Float64Array;

  constructor(readonly count: number) {
    this.departStep = new Int32Array(count).fill(-1);
    this.departLane = new Int32Array(count).fill(-1);
    this.departPos = new Float64Array(count);
    this.departSpeed = new Float64Array(count);
    this.arrivalStep = new Int32Array(count).fill(-1);
    this.arrivalLane = new Int32Array(count).fill(-1);
    this.arrivalPos = new Float64Array(count);
    this.arrivalSpeed = new Float64Array(count);
    this.routeLength = new Float64Array(count);
    this.waitSteps = new Int32Array(count);
    this.waitCount = new Int32Array(count);
    this.timeLoss = new Float64Array(count);
    this.teleports = new Int32Array(count);
    this.stopTime = new Float64Array(count);
  }

  /** A copy holding `count` records (>= this.count): online commands added vehicles to the demand. */
  grownTo(count: number): TripRecords {
    const t = new TripRecords(count);
    const dst = t.columns();
    this.columns().forEach((c, i) => dst[i]!.set(c));
    return t;
  }

  /** Every array, in a fixed order, for snapshots and hashing. */
  columns(): (Int32Array | Float64Array)[] {
    return [
      this.departStep,
      this.departLane,
      this.departPos,
      this.departSpeed,
      this.arrivalStep,
      this.arrivalLane,
      this.arrivalPos,
      this.arrivalSpeed,
      this.routeLength,
      this.waitSteps,
      this.waitCount,
      this.timeLoss,
      this.teleports,
      this.stopTime,
    ];
  }
}
