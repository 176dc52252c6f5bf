/**
 * Running actuated lights (the build side is actuated.ts): SUMO 1.15's MSActuatedTrafficLightLogic
 * trySwitch / gapControl / duration, and the induction loops' detection (MSInductLoop). Times of
 * events are integer milliseconds as SUMO's SUMOTime, so that phase lengths come out as SUMO's.
 * Reads and writes only the engine's tl* and det* arrays, and only for lights this engine owns.
 */
import type { Engine } from './engine.js';
import type { ActuatedProgram } from './actuated.js';

/** Loops this close (m) to their lane's end also see vehicles whose front is already in the junction. */
const NEAR_END = 40;

/**
 * Starts the actuated program in force at light `tl`. At load (`fromLoad`) the phase follows the
 * offset, counted in phase durations, as in NLJunctionControlBuilder::closeTrafficLightLogic; the
 * phase is taken to have started now and its first switch event comes after its minDur (the
 * `delay` closeTrafficLightLogic gives an ACTUATED logic). After a program switch by a command the
 * program starts at its phase 0, with its first event after that phase's minDur too.
 */
export function startActuated(e: Engine, tl: number, fromLoad: boolean): void {
  const act = e.actuatedProgram(tl);
  if (act === undefined) {
    e.tlAct[tl] = 0;
    return;
  }
  const now = e.timeMs();
  e.tlAct[tl] = 1;
  e.tlForce[tl] = 0;
  e.tlLastSwitch[tl] = now;
  if (!fromLoad) {
    e.tlActPhase[tl] = 0;
    e.tlNextSwitch[tl] = now + act.minDur[0]!;
    return;
  }
  const prog = e.net.trafficLights[tl]!;
  let abs = 0;
  for (const d of act.duration) abs += d;
  const offset = Math.round(prog.offset * 1000);
  let off = offset >= 0 ? (now + abs - (offset % abs)) % abs : (now + (-offset % abs)) % abs;
  let step = 0;
  while (off >= act.duration[step]!) {
    off -= act.duration[step]!;
    step++;
  }
  e.tlActPhase[tl] = step;
  e.tlNextSwitch[tl] = now + act.minDur[step]!;
}

/**
 * MSActuatedTrafficLightLogic::trySwitch at time `now` (ms), without custom switching rules and
 * with a single next phase: extend the green while a relevant loop saw a vehicle within max-gap
 * (gapControl, duration), else go on to the next phase for at least its minDur. Returns the time
 * until the next event, ms.
 */
export function trySwitch(e: Engine, tl: number, now: number): number {
  const act = e.actuatedProgram(tl)!;
  const step = e.tlActPhase[tl]!;
  let actDur = now - e.tlLastSwitch[tl]!;
  const gap = gapControl(e, act, step, actDur, now);
  if (gap < Infinity && !e.tlForce[tl]) return duration(act, step, actDur, gap);
  const next = act.next[step]!;
  e.tlForce[tl] = 0;
  if (next !== step) {
    e.tlLastSwitch[tl] = now;
    actDur = 0;
  }
  e.tlActPhase[tl] = next;
  return Math.max(1000, act.minDur[next]! - actDur);
}

/**
 * MSActuatedTrafficLightLogic::gapControl: the shortest time since a detection among the loops of
 * the current green phase that are within their max-gap, or Infinity to end the phase (not a
 * green phase, maxDur reached, or every loop gapped out).
 */
function gapControl(e: Engine, act: ActuatedProgram, step: number, actDur: number, now: number): number {
  if (!act.green[step]) return Infinity;
  if (actDur >= act.maxDur[step]!) return Infinity;
  let r = Infinity;
  const t = now / 1000;
  for (let k = act.phaseDetStart[step]!, end = act.phaseDetStart[step + 1]!; k < end; k++) {
    const d = act.phaseDet[k]!;
    // MSInductLoop::getTimeSinceLastDetection
    const gap = e.detOccupied[d] ? 0 : t - e.detLastLeave[d]!;
    if (gap < e.detMaxGap[d]! && gap < r) r = gap;
  }
  return r;
}

/**
 * MSActuatedTrafficLightLogic::duration: keep minDur, let the last detected vehicle pass
 * (detector-gap − gap), end on a whole second since the phase began, never beyond maxDur.
 */
function duration(act: ActuatedProgram, step: number, actDur: number, gap: number): number {
  let d = act.minDur[step]! - actDur;
  d = Math.max(d, Math.round((act.detectorGap - gap) * 1000), 1);
  if (d % 1000 !== 0) d = (Math.floor((d + actDur) / 1000) + 1) * 1000 - actDur;
  return Math.min(d, act.maxDur[step]! - actDur);
}

/**
 * After the movement: every loop of a light this engine owns is occupied while a vehicle covers
 * its position, and records when the last vehicle's back passed it in this step, interpolated as
 * SUMO's MSCFModel::passingTime does for the Euler update (the vehicle moved speed × dt at its new
 * speed). Vehicles whose front entered the junction already are seen on the link's internal lane.
 */
export function detectorPhase(e: Engine): void {
  const { net, v, demand } = e;
  const dt = e.cfg.stepLength;
  const t0 = e.time();
  for (let d = 0; d < e.detLane.length; d++) {
    if (!e.tlOwned[e.detTl[d]!]) continue;
    const lane = e.detLane[d]!;
    const pos = e.detPos[d]!;
    let occ = 0;
    let leave = e.detLastLeave[d]!;
    for (let s = e.laneFront[lane]!; s >= 0; s = v.behind[s]!) {
      const p = v.pos[s]!;
      if (p < pos) break;
      const back = p - demand.types[demand.type[v.vid[s]!]!]!.length;
      if (back <= pos) {
        occ = 1;
        continue;
      }
      const sp = v.speed[s]!;
      const oldBack = back - sp * dt;
      if (oldBack <= pos && sp > 0) {
        const lt = t0 + (pos - oldBack) / sp;
        if (lt > leave) leave = lt;
      }
    }
    const L = net.laneLength[lane]!;
    if (L - pos < NEAR_END) {
      for (let k = net.laneOutStart[lane]!, end = net.laneOutStart[lane + 1]!; k < end; k++) {
        const via = net.linkLane[net.laneOut[k]!]!;
        for (let s = e.laneBack[via]!; s >= 0; s = v.ahead[s]!) {
          const back = L + v.pos[s]! - demand.types[demand.type[v.vid[s]!]!]!.length;
          if (back <= pos) {
            occ = 1;
            continue;
          }
          const sp = v.speed[s]!;
          const oldBack = back - sp * dt;
          if (!(oldBack <= pos)) break;
          if (sp > 0) {
            const lt = t0 + (pos - oldBack) / sp;
            if (lt > leave) leave = lt;
          }
        }
      }
    }
    e.detOccupied[d] = occ;
    e.detLastLeave[d] = leave;
  }
}

// ---- snapshot, dump and hash ----

/** Whether any light of the network has an actuated program (then its state is in dumps and hashes). */
export function hasActuated(e: Engine): boolean {
  return e.net.trafficLights.some((t) => t.programs.some((p) => p.act !== undefined));
}

/** Every light's actuated state and every loop's, in index order (the snapshot's section). */
export function writeActuatedState(e: Engine): Buffer {
  const nTl = e.tlAct.length;
  const nDet = e.detLastLeave.length;
  const b = Buffer.alloc(8 + nTl * 28 + nDet * 12);
  let off = b.writeInt32LE(nTl, 0);
  off = b.writeInt32LE(nDet, off);
  for (let tl = 0; tl < nTl; tl++) {
    off = b.writeInt32LE(e.tlAct[tl]! | (e.tlForce[tl]! << 1), off);
    off = b.writeInt32LE(e.tlActPhase[tl]!, off);
    off = b.writeInt32LE(0, off);
    off = b.writeDoubleLE(e.tlLastSwitch[tl]!, off);
    off = b.writeDoubleLE(e.tlNextSwitch[tl]!, off);
  }
  for (let d = 0; d < nDet; d++) {
    off = b.writeDoubleLE(e.detLastLeave[d]!, off);
    off = b.writeInt32LE(e.detOccupied[d]!, off);
  }
  return b;
}

/** Restores what `writeActuatedState` wrote (after the command state, which it overrides for tlAct). */
export function readActuatedState(e: Engine, b: Buffer): void {
  const nTl = b.readInt32LE(0);
  const nDet = b.readInt32LE(4);
  if (nTl !== e.tlAct.length || nDet !== e.detLastLeave.length)
    throw new Error('snapshot: actuated state of another network');
  let off = 8;
  for (let tl = 0; tl < nTl; tl++) {
    const flags = b.readInt32LE(off);
    e.tlAct[tl] = flags & 1;
    e.tlForce[tl] = (flags >> 1) & 1;
    e.tlActPhase[tl] = b.readInt32LE(off + 4);
    e.tlLastSwitch[tl] = b.readDoubleLE(off + 12);
    e.tlNextSwitch[tl] = b.readDoubleLE(off + 20);
    off += 28;
  }
  for (let d = 0; d < nDet; d++) {
    e.detLastLeave[d] = b.readDoubleLE(off);
    e.detOccupied[d] = b.readInt32LE(off + 8);
    off += 12;
  }
}

/**
 * The actuated state of the lights this engine owns, one record per light with an actuated
 * program: [tl, act, phase, lastSwitch, nextSwitch, force, then per loop of the light: lastLeave,
 * occupied]. Undefined when the network has no actuated program (hashes of such runs unchanged).
 */
export function dumpActuated(e: Engine): number[][] | undefined {
  if (!hasActuated(e)) return undefined;
  const records = new Map<number, number[]>();
  e.net.trafficLights.forEach((t, tl) => {
    if (!e.tlOwned[tl] || !t.programs.some((p) => p.act !== undefined)) return;
    records.set(tl, [tl, e.tlAct[tl]!, e.tlActPhase[tl]!, e.tlLastSwitch[tl]!, e.tlNextSwitch[tl]!, e.tlForce[tl]!]);
  });
  for (let d = 0; d < e.detTl.length; d++) records.get(e.detTl[d]!)?.push(e.detLastLeave[d]!, e.detOccupied[d]!);
  return [...records.values()];
}

/** Merges the parts' actuated records (each light is owned by one part), by light. */
export function mergeActuated(parts: readonly (number[][] | undefined)[]): number[][] | undefined {
  let any = false;
  const all: number[][] = [];
  for (const p of parts) {
    if (!p) continue;
    any = true;
    all.push(...p);
  }
  return any ? all.sort((a, b) => a[0]! - b[0]!) : undefined;
}

/** The bytes of the actuated records that the state hash covers. */
export function actuatedBytes(records: readonly number[][]): Buffer {
  let n = 4;
  for (const r of records) n += 4 + r.length * 8;
  const b = Buffer.alloc(n);
  let off = b.writeInt32LE(records.length, 0);
  for (const r of records) {
    off = b.writeInt32LE(r.length, off);
    for (const x of r) off = b.writeDoubleLE(x, off);
  }
  return b;
}
