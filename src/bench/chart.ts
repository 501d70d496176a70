/**
 * The results as an SVG chart, rendered headless: a Vega-Lite spec compiled
 * to Vega, and vega's View.toSVG(), which needs no canvas or browser. vega
 * and vega-lite are optional dependencies (ES modules, hence import()); when
 * they are missing the chart is skipped with the reason.
 */
import type { Row } from './rows';

/** The few calls of vega and vega-lite used here (both are optional, so their types may be absent). */
interface VegaView {
  toSVG(): Promise<string>;
  finalize(): void;
}
interface VegaModule {
  parse(spec: unknown): unknown;
  View: new (runtime: unknown, options: { renderer: 'none' }) => VegaView;
}
interface VegaLiteModule {
  compile(spec: unknown): { spec: unknown };
}

export async function renderChart(rows: Row[], title: string): Promise<string> {
  // import() stays a real dynamic import in the compiled CommonJS: both packages are ES modules only.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the one way to keep import() in CommonJS output
  const dynamicImport = new Function('name', 'return import(name)') as <T>(name: string) => Promise<T>;
  let vega: VegaModule;
  let vegaLite: VegaLiteModule;
  try {
    [vega, vegaLite] = await Promise.all([dynamicImport<VegaModule>('vega'), dynamicImport<VegaLiteModule>('vega-lite')]);
  } catch (err) {
    throw new Error(`vega and vega-lite are needed for the chart (npm install vega vega-lite): ${(err as Error).message}`);
  }
  const values = rows
    .filter((r) => r.deliveredPerSec !== null)
    .map((r) => ({ system: r.key, subscribers: `${r.subscribers} ${r.clients === 'threads' ? 'readers' : 'subscribers'}`, size: `${r.size} B`, delivered: Math.round(r.deliveredPerSec!) }));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values },
    facet: { column: { field: 'size', type: 'nominal', title: 'payload' } },
    spec: {
      width: 420,
      height: 300,
      mark: 'bar',
      encoding: {
        y: { field: 'system', type: 'nominal', sort: null, title: null },
        yOffset: { field: 'subscribers', type: 'nominal' },
        x: { field: 'delivered', type: 'quantitative', scale: { type: 'log' }, title: 'messages delivered per second (all subscribers, log scale)' },
        color: { field: 'subscribers', type: 'nominal', title: 'fanout' },
        tooltip: [{ field: 'delivered' }],
      },
    },
    config: { font: 'sans-serif' },
  };
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
