// The live loss chart: uPlot (bundled from node_modules, served at /playground/vendor/uplot/) drawing
// training loss and held-out loss against epochs. uPlot is loaded on first use, so the page's first
// paint does not wait for it.

let loading = null;

/** Loads uPlot's minified build once (a classic script defining window.uPlot). */
function loadUPlot() {
  loading ??= new Promise((resolve, reject) => {
    if (window.uPlot) return resolve(window.uPlot);
    const script = document.createElement('script');
    script.src = '/playground/vendor/uplot/uPlot.iife.min.js';
    script.onload = () => resolve(window.uPlot);
    script.onerror = () => reject(new Error('could not load the chart library'));
    document.head.append(script);
  });
  return loading;
}

export class LossChart {
  #plot = null;
  #container;
  #resize;

  constructor(container) {
    this.#container = container;
  }

  /** Draws `series` ({x, loss, val}), creating the chart on first call. */
  async draw(series) {
    const data = [series.x, series.loss, series.val];
    if (this.#plot) {
      this.#plot.setData(data);
      return;
    }
    const uPlot = await loadUPlot();
    if (this.#plot) return this.#plot.setData(data);
    const width = () => Math.max(240, this.#container.clientWidth);
    const css = getComputedStyle(document.documentElement);
    const color = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
    this.#plot = new uPlot(
      {
        width: width(),
        height: 260,
        scales: { x: { time: false } },
        axes: [
          { label: 'epoch', stroke: color('--fg', '#222'), grid: { stroke: color('--grid', '#ddd') } },
          { label: 'loss (nats/token)', stroke: color('--fg', '#222'), grid: { stroke: color('--grid', '#ddd') }, size: 56 },
        ],
        series: [
          { label: 'epoch', value: (_u, v) => (v === null ? '–' : v.toFixed(2)) },
          { label: 'loss', stroke: color('--loss', '#1f6feb'), width: 2, value: (_u, v) => (v === null ? '–' : v.toFixed(4)) },
          { label: 'val_loss', stroke: color('--val', '#d9480f'), width: 2, spanGaps: true, points: { show: true, size: 7 }, value: (_u, v) => (v === null ? '–' : v.toFixed(4)) },
        ],
      },
      data,
      this.#container,
    );
    this.#resize = new ResizeObserver(() => this.#plot?.setSize({ width: width(), height: 260 }));
    this.#resize.observe(this.#container);
  }

  /** Points drawn (for tests and the stats line). */
  get points() {
    return this.#plot ? this.#plot.data[0].length : 0;
  }

  destroy() {
    this.#resize?.disconnect();
    this.#plot?.destroy();
    this.#plot = null;
  }
}
