/**
 * The benchmark's plot, written as SVG by hand (no dependency): on the left the latency distributions
 * (empirical CDFs, one step per trial), on the right the time to all running against the number of pods,
 * log-log, for nodelet and its peers.
 */

/** Time against N of one contender. `style` picks its colour and dash. */
export interface Curve {
  label: string;
  points: { n: number; ms: number }[];
  style: string;
}

export interface PlotInput {
  title: string;
  /** Latencies in ms, one value per trial. */
  latencies: { label: string; values: number[] }[];
  curves: Curve[];
}

const W = 1000;
const H = 520;
const TOP = 56;
const PLOT_H = 270;
const LEFT = { x: 70, w: 380 };
const RIGHT = { x: 580, w: 380 };
const LEGEND_Y = TOP + PLOT_H + 52;

const CDF_COLOURS = ['#1f77b4', '#9467bd', '#2ca02c', '#d62728', '#8c564b'];
/** Process-runtime contenders: solid lines and dots; CRI ones (containerd, podman): dashed lines and squares. */
const CURVE_STYLE: Record<string, { colour: string; dash?: string; square?: boolean }> = {
  nodelet: { colour: '#1f77b4' },
  'spawn-loop': { colour: '#7f7f7f' },
  'bwrap-loop': { colour: '#17becf' },
  supervisord: { colour: '#ff7f0e' },
  'cri-nodelet': { colour: '#1f77b4', dash: '6 4', square: true },
  'cri-bare': { colour: '#2ca02c', dash: '6 4', square: true },
  podman: { colour: '#d62728', dash: '6 4', square: true },
};

/** A label drawn over the plot: a white halo keeps it readable across grid lines and curves. */
const HALO = 'stroke="#fff" stroke-width="4" stroke-linejoin="round" paint-order="stroke"';

function marker(cx: number, cy: number, colour: string, square: boolean | undefined, title?: string): string {
  const t = title ? `<title>${esc(title)}</title>` : '';
  return square
    ? `<rect x="${f1(cx - 3.5)}" y="${f1(cy - 3.5)}" width="7" height="7" fill="#fff" stroke="${colour}" stroke-width="2">${t}</rect>`
    : `<circle cx="${f1(cx)}" cy="${f1(cy)}" r="3.5" fill="${colour}">${t}</circle>`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const f1 = (x: number) => (Math.round(x * 10) / 10).toString();

/** A "nice" step (1, 2 or 5 × a power of ten) giving about `count` ticks up to `max`. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function fmtTickMs(ms: number): string {
  return `${Number.isInteger(ms) ? ms : ms.toFixed(1)}`;
}

function fmtSecondsTick(s: number): string {
  return `${Number(s.toPrecision(3))} s`;
}

function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function legend(x: number, y: number, items: { label: string; colour: string; dash?: string; square?: boolean; dot?: boolean }[]): string {
  return items
    .map((it, i) => {
      const yy = y + i * 17;
      const dash = it.dash ? ` stroke-dasharray="${it.dash}"` : '';
      return (
        `<line x1="${x}" y1="${yy - 4}" x2="${x + 26}" y2="${yy - 4}" stroke="${it.colour}" stroke-width="2.5"${dash}/>` +
        (it.dot ? marker(x + 13, yy - 4, it.colour, it.square) : '') +
        `<text x="${x + 34}" y="${yy}">${esc(it.label)}</text>`
      );
    })
    .join('\n');
}

function frame(x: number, w: number, title: string, xLabel: string, yLabel: string): string {
  const cy = TOP + PLOT_H / 2;
  return [
    `<text x="${x + w / 2}" y="${TOP - 12}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${x}" y="${TOP}" width="${w}" height="${PLOT_H}" fill="none" stroke="#333"/>`,
    `<text x="${x + w / 2}" y="${TOP + PLOT_H + 36}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="${x - 50}" y="${cy}" text-anchor="middle" transform="rotate(-90 ${x - 50} ${cy})">${esc(yLabel)}</text>`,
  ].join('\n');
}

function noData(x: number, w: number): string {
  return `<text x="${x + w / 2}" y="${TOP + PLOT_H / 2}" text-anchor="middle" fill="#777">not measured in this run</text>`;
}

/** Left panel: the empirical CDF of each latency series, with the 100 ms target. */
function cdfPanel(series: PlotInput['latencies']): string {
  const { x, w } = LEFT;
  const parts = [frame(x, w, 'Latency distributions (cumulative)', 'latency (ms)', 'trials at or below (%)')];
  const present = series.filter((s) => s.values.length > 0);
  if (!present.length) return [...parts, noData(x, w)].join('\n');
  const target = 100;
  const maxV = Math.max(target * 1.1, ...present.flatMap((s) => s.values)) * 1.04;
  const step = niceStep(maxV, 6);
  const xMax = Math.ceil(maxV / step) * step;
  const sx = (v: number) => x + (v / xMax) * w;
  const sy = (frac: number) => TOP + PLOT_H - frac * PLOT_H;
  for (let v = 0; v <= xMax + 1e-9; v += step) {
    parts.push(`<line x1="${f1(sx(v))}" y1="${TOP}" x2="${f1(sx(v))}" y2="${TOP + PLOT_H}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${f1(sx(v))}" y="${TOP + PLOT_H + 16}" text-anchor="middle">${fmtTickMs(v)}</text>`);
  }
  for (const frac of [0, 0.25, 0.5, 0.75, 0.9, 0.99, 1]) {
    parts.push(`<line x1="${x}" y1="${f1(sy(frac))}" x2="${x + w}" y2="${f1(sy(frac))}" stroke="${frac === 0.9 || frac === 0.99 ? '#f0f0f0' : '#e5e5e5'}"/>`);
    if (frac !== 0.99) parts.push(`<text x="${x - 6}" y="${f1(sy(frac) + 4)}" text-anchor="end">${Math.round(frac * 100)}</text>`);
  }
  parts.push(
    `<line x1="${f1(sx(target))}" y1="${TOP}" x2="${f1(sx(target))}" y2="${TOP + PLOT_H}" stroke="#d62728" stroke-dasharray="2 3"/>`,
    `<text x="${f1(sx(target) + 4)}" y="${TOP + PLOT_H - 8}" fill="#d62728" ${HALO}>target ${target} ms</text>`,
  );
  const items: { label: string; colour: string }[] = [];
  present.forEach((s, i) => {
    const colour = CDF_COLOURS[i % CDF_COLOURS.length]!;
    const v = [...s.values].sort((a, b) => a - b);
    let d = `M${f1(sx(v[0]!))},${f1(sy(0))}`;
    v.forEach((val, k) => {
      d += ` H${f1(sx(val))} V${f1(sy((k + 1) / v.length))}`;
    });
    parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    items.push({ label: `${s.label}: p50 ${percentile(v, 50).toFixed(1)} ms, p99 ${percentile(v, 99).toFixed(1)} ms`, colour });
  });
  parts.push(legend(x - 40, LEGEND_Y, items));
  return parts.join('\n');
}

/** Right panel: time to all running against N, log-log, with a line of linear growth through nodelet's largest N. */
function curvePanel(curves: Curve[]): string {
  const { x, w } = RIGHT;
  const parts = [frame(x, w, 'Time to all running against N (log-log)', 'pods (or processes) started at once, N', 'time to all running')];
  const present = curves.filter((c) => c.points.length > 0);
  if (!present.length) return [...parts, noData(x, w)].join('\n');
  const ns = present.flatMap((c) => c.points.map((p) => p.n));
  const secs = present.flatMap((c) => c.points.map((p) => p.ms / 1000));
  const xLo = Math.log10(Math.min(...ns)) - 0.15;
  const xHi = Math.log10(Math.max(...ns)) + 0.15;
  const yLo = Math.floor(Math.log10(Math.min(...secs)));
  const yHi = Math.max(yLo + 1, Math.ceil(Math.log10(Math.max(...secs, 10))));
  const sx = (n: number) => x + ((Math.log10(n) - xLo) / (xHi - xLo)) * w;
  const sy = (s: number) => TOP + PLOT_H - ((Math.log10(s) - yLo) / (yHi - yLo)) * PLOT_H;
  for (let e = Math.ceil(xLo); e <= Math.floor(xHi); e++) {
    const n = 10 ** e;
    parts.push(`<line x1="${f1(sx(n))}" y1="${TOP}" x2="${f1(sx(n))}" y2="${TOP + PLOT_H}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${f1(sx(n))}" y="${TOP + PLOT_H + 16}" text-anchor="middle">${n.toLocaleString('en-US')}</text>`);
  }
  for (let e = yLo; e <= yHi; e++) {
    for (const m of [1, 2, 5]) {
      const s = m * 10 ** e;
      if (Math.log10(s) > yHi + 1e-9) continue;
      parts.push(`<line x1="${x}" y1="${f1(sy(s))}" x2="${x + w}" y2="${f1(sy(s))}" stroke="${m === 1 ? '#e5e5e5' : '#f3f3f3'}"/>`);
      if (m === 1) parts.push(`<text x="${x - 6}" y="${f1(sy(s) + 4)}" text-anchor="end">${fmtSecondsTick(s)}</text>`);
    }
  }
  // The goal at 1,000 pods: all running within 10 s.
  if (ns.includes(1000)) {
    parts.push(
      `<line x1="${f1(sx(700))}" y1="${f1(sy(10))}" x2="${f1(sx(1400))}" y2="${f1(sy(10))}" stroke="#d62728" stroke-dasharray="2 3"/>`,
      `<text x="${f1(sx(690))}" y="${f1(sy(10) + 4)}" text-anchor="end" fill="#d62728" ${HALO}>target 10 s at 1,000</text>`,
    );
  }
  const nodelet = present.find((c) => c.style === 'nodelet');
  if (nodelet && nodelet.points.length > 1) {
    const last = [...nodelet.points].sort((a, b) => a.n - b.n).at(-1)!;
    const n0 = 10 ** xLo;
    const t0 = (last.ms / 1000) * (n0 / last.n);
    parts.push(`<line x1="${f1(sx(n0))}" y1="${f1(sy(t0))}" x2="${f1(sx(last.n))}" y2="${f1(sy(last.ms / 1000))}" stroke="#999" stroke-dasharray="1 3" stroke-width="1.5"/>`);
  }
  const items: { label: string; colour: string; dash?: string; square?: boolean; dot?: boolean }[] = [];
  for (const c of present) {
    const st = CURVE_STYLE[c.style] ?? { colour: '#000' };
    const pts = [...c.points].sort((a, b) => a.n - b.n);
    const dash = st.dash ? ` stroke-dasharray="${st.dash}"` : '';
    parts.push(`<polyline points="${pts.map((p) => `${f1(sx(p.n))},${f1(sy(p.ms / 1000))}`).join(' ')}" fill="none" stroke="${st.colour}" stroke-width="2"${dash}/>`);
    for (const p of pts) parts.push(marker(sx(p.n), sy(p.ms / 1000), st.colour, st.square, `${c.label}, ${p.n}: ${(p.ms / 1000).toFixed(2)} s`));
    items.push({ label: c.label, ...st, dot: true });
  }
  if (nodelet && nodelet.points.length > 1) items.push({ label: 'linear growth through nodelet’s largest N', colour: '#999', dash: '1 3' });
  parts.push(legend(x - 40, LEGEND_Y, items));
  return parts.join('\n');
}

export function renderSvg(d: PlotInput): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12" fill="#222">
<title>${esc(d.title)}</title>
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(d.title)}</text>
${cdfPanel(d.latencies)}
${curvePanel(d.curves)}
</svg>
`;
}
