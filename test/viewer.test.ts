/**
 * The live viewer in a real browser (Debian's Chromium through playwright-core) against a real run:
 * it draws the network and vehicles that move, its pause button pauses the run, clicking a lane
 * closes it. Screenshots are checked by counting pixels of the colours the viewer uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHROMIUM_MISSING, launchBrowser } from './browser.js';
import { decodePng, type Image } from './png.js';
import { startControlledRun, waitFor } from '../src/control/testing.js';

const BACKGROUND = [0x15, 0x18, 0x1c];

/** Hue in degrees and chroma (max − min) of an RGB pixel. */
function hueChroma(r: number, g: number, b: number): [number, number] {
  const max = Math.max(r, g, b),
    min = Math.min(r, g, b),
    c = max - min;
  if (c === 0) return [0, 0];
  const h = max === r ? ((g - b) / c) % 6 : max === g ? (b - r) / c + 2 : (r - g) / c + 4;
  return [(h * 60 + 360) % 360, c];
}

type Kind = 'background' | 'vehicle' | 'closed' | 'other';
/** Vehicles are coloured by speed from red (0°) to green (120°), saturated; closed lanes purple. */
function classify(img: Image, i: number): Kind {
  const r = img.rgba[i * 4]!,
    g = img.rgba[i * 4 + 1]!,
    b = img.rgba[i * 4 + 2]!;
  if (Math.abs(r - BACKGROUND[0]!) + Math.abs(g - BACKGROUND[1]!) + Math.abs(b - BACKGROUND[2]!) < 6)
    return 'background';
  const [h, c] = hueChroma(r, g, b);
  if (c > 90 && h <= 130) return 'vehicle';
  if (c > 60 && h >= 270 && h <= 310) return 'closed';
  return 'other';
}

function census(img: Image) {
  const n = { background: 0, vehicle: 0, closed: 0, other: 0 };
  for (let i = 0; i < img.width * img.height; i++) n[classify(img, i)]++;
  return n;
}

/** Pixels that are vehicle-coloured in exactly one of two same-sized images. */
function vehicleChange(a: Image, b: Image): number {
  let d = 0;
  for (let i = 0; i < a.width * a.height; i++)
    if ((classify(a, i) === 'vehicle') !== (classify(b, i) === 'vehicle')) d++;
  return d;
}

test(
  'the viewer draws the network and moving vehicles; pause pauses; a clicked lane closes',
  { skip: CHROMIUM_MISSING },
  async (t) => {
    const run = await startControlledRun({ factor: 10 });
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(run.base + '/');
      await waitFor(() => run.run.engine.running >= 10, '10 vehicles in the network');
      await page.waitForFunction(
        () => (window as unknown as { tessds: { frames: number } }).tessds.frames > 3,
        undefined,
        { timeout: 20000 },
      );
      const map = page.locator('#map');
      const shot = async () => decodePng(await map.screenshot());

      await t.test('network and vehicles are drawn, and vehicles move', async () => {
        const a = await shot();
        const ca = census(a);
        // the network: lanes are grey, more than a few hundred pixels; vehicles: coloured pixels
        assert.ok(ca.other > 2000, `network pixels: ${ca.other}`);
        assert.ok(ca.vehicle > 50, `vehicle pixels: ${ca.vehicle}`);
        const stepA = run.run.engine.step;
        await waitFor(() => run.run.engine.step >= stepA + 10, 'ten more steps');
        await page.waitForFunction(
          (s) => (window as unknown as { tessds: { frame: { step: number } } }).tessds.frame.step >= s,
          stepA + 10,
        );
        await page.waitForTimeout(100); // one animation frame draws the new frame
        const b = await shot();
        assert.ok(vehicleChange(a, b) > 20, `vehicle pixels that changed: ${vehicleChange(a, b)}`);
      });

      await t.test('the pause button pauses the run and the picture; pressing it again resumes', async () => {
        await page.click('#pause');
        await waitFor(
          async () => (await (await fetch(run.base + '/api/status')).json()).paused === true,
          'the run to pause',
        );
        const step = run.run.engine.step;
        await page.waitForFunction(
          (s) => (window as unknown as { tessds: { frame: { step: number } } }).tessds.frame.step === s,
          step,
        );
        await page.waitForFunction(() => document.getElementById('pause')!.textContent === 'Resume');
        const a = await shot();
        await page.waitForTimeout(500);
        const b = await shot();
        assert.equal(run.run.engine.step, step, 'no step while paused');
        assert.equal(vehicleChange(a, b), 0, 'nothing moves while paused');
        await page.click('#pause');
        await waitFor(() => run.run.engine.step > step, 'the run to step again');
      });

      await t.test('clicking a lane closes it', async () => {
        // the middle of lane NC_0 (the northern approach), in canvas pixels
        const [x, y] = await page.evaluate(() => {
          const s = (
            window as unknown as {
              tessds: {
                network: { lanes: { id: string; shape: number[] }[] };
                worldToScreen(x: number, y: number): [number, number];
              };
            }
          ).tessds;
          const lane = s.network.lanes.find((l) => l.id === 'NC_0')!;
          const sh = lane.shape;
          const n = sh.length;
          return s.worldToScreen((sh[0]! + sh[n - 2]!) / 2, (sh[1]! + sh[n - 1]!) / 2);
        });
        assert.equal(census(await shot()).closed, 0, 'no closed lane before');
        const box = (await map.boundingBox())!;
        await page.mouse.click(box.x + x, box.y + y);
        await waitFor(() => run.closed('NC_0'), 'the closeLane command to be applied in the engine');
        const status = (await (await fetch(run.base + '/api/status')).json()) as { closedLanes: string[] };
        assert.deepEqual(status.closedLanes, ['NC_0']);
        await page.waitForTimeout(100);
        assert.ok(census(await shot()).closed > 50, 'the closed lane is drawn in its colour');
        assert.match((await page.textContent('#message')) ?? '', /closeLane accepted/);
      });

      assert.deepEqual(errors, [], 'no script errors in the page');
    } finally {
      await browser.close();
      await run.close();
    }
  },
);
