import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium } from '../../src/browser/chromium.js';
import { SwishActivation } from '../../src/layers/seed/index.js';
import { runParity } from '../../src/parity/run-parity.js';
import type { ParityRun } from '../../src/parity/parity-result.js';
import { registerLayer } from '../../src/registry/custom-layer-registry.js';
import { formatHtmlReport } from '../../src/report/html-report.js';
import { fixtureBundle, REPO_ROOT } from '../support/paths.js';

/** Screenshots of rendered reports land here, as part of the test output. */
const ARTIFACTS = path.join(REPO_ROOT, 'out', 'test-artifacts');

describe('HTML parity report, rendered in Chromium', function () {
  this.timeout(120_000);
  let run: ParityRun;
  /** swish with a right forward pass and a doubled gradient in SwishActivation. */
  let backwardRun: ParityRun;

  before(async () => {
    (await import('../support/faulty-seed-layers.js')).registerWrongSwish();
    try {
      run = await runParity([fixtureBundle('swish'), fixtureBundle('two_branch')], { backends: ['cpu', 'wasm'], requireAllBackends: true });
      await import('../support/wrong-gradient-swish.js');
      backwardRun = await runParity([fixtureBundle('swish')], { backends: ['cpu'], requireAllBackends: true });
    } finally {
      registerLayer('SwishActivation', SwishActivation);
    }
  });

  it('shows each backend\'s error-by-layer chart with the tolerance line, the first divergence marked, and histograms', async () => {
    const html = formatHtmlReport(run);
    assert.doesNotMatch(html, /<script|https?:\/\//, 'the page must be self-contained');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 960, height: 1200 } });
      await page.setContent(html);
      const charts = await page.locator('svg.chart').count();
      assert.equal(charts, 4); // 2 models × 2 backends
      const divergence = await page.locator('#first-divergence').allTextContents();
      // two_branch uses the faulty SwishActivation too, as its layer swish_left.
      assert.deepEqual(divergence, [
        'first divergence: swish_activation',
        'first divergence: swish_activation',
        'first divergence: swish_left',
        'first divergence: swish_left',
      ]);
      assert.ok((await page.locator('svg.chart line.tolerance').count()) === 4);
      assert.ok((await page.locator('svg.histogram rect.bar').count()) > 0);
      // The other modes are listed per backend too: the faulty layer fails alone.
      const modes = await page.locator('ul.modes li').allTextContents();
      assert.ok(modes.some((t) => /swish on cpu, layer-isolated mode: out of tolerance when run alone on Keras's inputs: swish_activation/.test(t)), modes.join('\n'));
      assert.ok(modes.some((t) => /layer-isolated gradients:/.test(t)));
      // A failing layer is drawn red and above the tolerance line; a passing one below it.
      const failing = page.locator('svg.chart').first().locator('circle.out.fail[data-layer="swish_activation"]');
      const passing = page.locator('svg.chart').first().locator('circle.out:not(.fail)[data-layer="dense"]');
      const tolerance = Number(await page.locator('svg.chart').first().locator('line.tolerance').getAttribute('y1'));
      assert.ok(Number(await failing.getAttribute('cy')) < tolerance);
      assert.ok(Number(await passing.getAttribute('cy')) > tolerance);
      // Every mode is a series: the faulty layer fails alone too (hollow circle), and output
      // gradients (triangles) and each layer's backward pass alone (hollow squares) are drawn.
      const chart = page.locator('svg.chart').first();
      assert.equal(await chart.locator('circle.alone.hollow.fail[data-layer="swish_activation"]').count(), 1);
      assert.equal(await chart.locator('circle.alone:not(.fail)[data-layer="dense"]').count(), 1);
      assert.ok((await chart.locator('polygon.dy').count()) > 0);
      assert.ok((await chart.locator('rect.back-alone.hollow').count()) > 0);
      const legend = await page.locator('p.series-legend').first().textContent();
      assert.match(legend ?? '', /layer output.*layer run alone.*output gradient dL\/dy.*weight gradients.*backward pass, layer run alone/);
      // A forward divergence is the finding: no backward divergence is claimed on top of it.
      assert.equal(await page.locator('#first-divergence-backward').count(), 0);
      await mkdir(ARTIFACTS, { recursive: true });
      const screenshot = path.join(ARTIFACTS, 'parity-report.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`      screenshot: ${path.relative(REPO_ROOT, screenshot)}`);
    } finally {
      await browser.close();
    }
  });

  it('marks where the backward pass diverges when the forward pass holds', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 960, height: 800 } });
      await page.setContent(formatHtmlReport(backwardRun));
      assert.equal(await page.locator('#first-divergence').count(), 0);
      assert.deepEqual(await page.locator('#first-divergence-backward').allTextContents(), ['backward pass diverges: swish_activation']);
      const chart = page.locator('svg.chart');
      // Forward points all pass; the output gradient into dense (upstream of the fault) fails, the one into swish_activation does not.
      assert.equal(await chart.locator('circle.out.fail').count(), 0);
      assert.equal(await chart.locator('polygon.dy.fail[data-layer="dense"]').count(), 1);
      assert.equal(await chart.locator('polygon.dy:not(.fail)[data-layer="swish_activation"]').count(), 1);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'parity-report-backward.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
