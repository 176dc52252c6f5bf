/**
 * One read of a scenario in a fresh process, as a run does it, for bench/cluster.ts:
 *
 *   node dist/bench/read-once.js CFG full|scan|cached|xml-full|xml-scan CACHE_DIR
 *
 * full: every file through the full XML parser (the reader before the scanner); scan: the reader as
 * a run without the cache uses it; cached: through the scenario cache in CACHE_DIR (filled first by
 * the caller); xml-full, xml-scan: only the XML of the net, additional and route files, into element
 * trees. Prints `{"ms", "cpuMs"}`: wall and CPU time of the read alone.
 */
import { loadSumoScenarioCached } from '../src/io/scenario-cache.js';
import { loadSumoConfig, loadSumoScenario } from '../src/io/sumo/config.js';
import { parseXmlFile, withFullXmlParser } from '../src/io/xml.js';

const [cfg, mode, dir] = process.argv.slice(2) as [string, string, string | undefined];
const c = loadSumoConfig(cfg);
const xmlFiles = [c.netFile, ...c.additionalFiles, ...c.routeFiles];
const readXml = () => xmlFiles.forEach((f) => parseXmlFile(f));
const cpu0 = process.cpuUsage();
const t0 = performance.now();
if (mode === 'full') withFullXmlParser(() => loadSumoScenario(cfg));
else if (mode === 'xml-full') withFullXmlParser(readXml);
else if (mode === 'xml-scan') readXml();
else if (mode === 'cached') loadSumoScenarioCached(cfg, { dir: dir! });
else loadSumoScenario(cfg);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
