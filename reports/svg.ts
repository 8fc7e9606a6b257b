/**
 * Render a vega-lite spec to a standalone SVG in Node with vega's SVG renderer (headless: no
 * canvas, no DOM). vega escapes the text it writes, so user strings in the data stay text.
 */
import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';

/** The SVG document text of one chart. Async (vega runs its dataflow); never touches the network. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
