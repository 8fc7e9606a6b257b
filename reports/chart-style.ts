/**
 * The look every chart shares: one colour per transport (a fixed scale domain, so a transport has
 * the same colour in every chart and every report), fonts, axes, legend placement.
 */
import { TRANSPORTS, colourOf } from '../load/drivers/index.ts';

export const FONT = 'Inter, "Segoe UI", system-ui, -apple-system, Helvetica, Arial, sans-serif';

/** Width and height of one plot area, px. */
export const PLOT_WIDTH = 460;
export const PLOT_HEIGHT = 250;

/** The vega-lite colour channel for a field holding a transport name. */
export function transportColor(field = 'transport') {
  return {
    field,
    type: 'nominal' as const,
    title: 'transport',
    scale: { domain: [...TRANSPORTS], range: TRANSPORTS.map(colourOf) },
    legend: { orient: 'bottom' as const, direction: 'horizontal' as const },
  };
}

/** The vega-lite strokeDash channel for a field holding a run's variant (runs.ts variantOf): a dash per variant. */
export function variantDash(field = 'variant') {
  return { field, type: 'nominal' as const, title: 'variant', legend: { orient: 'bottom' as const, direction: 'horizontal' as const } };
}

/** Top-level vega-lite config shared by every chart. */
export const CHART_CONFIG = {
  font: FONT,
  background: '#ffffff',
  padding: 8,
  view: { stroke: null },
  title: { fontSize: 14, fontWeight: 600, anchor: 'start' as const, color: '#1f2328', offset: 10 },
  axis: {
    labelColor: '#57606a', titleColor: '#1f2328', titleFontWeight: 500, labelFontSize: 11, titleFontSize: 12,
    gridColor: '#eaeef2', domainColor: '#d0d7de', tickColor: '#d0d7de',
  },
  legend: { labelColor: '#1f2328', titleColor: '#57606a', labelFontSize: 11, titleFontSize: 11, symbolStrokeWidth: 3 },
  line: { strokeWidth: 2 },
  bar: { cornerRadiusEnd: 2 },
};
