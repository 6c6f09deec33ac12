// Vite builds the report viewer: one HTML file with its script and styles inline, which Export
// report (app) and `depass --format html` (CLI) fill with a run. It opens from disk with no server
// and makes no request: its policy allows only the inline script and style it was built with
// (by hash), images from data and blob URLs, and nothing to connect to. The views are the app's
// own; the engine is left out (a report has no model), so src/state/engine.ts is replaced by
// src/report/no-engine.ts here.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { viteSingleFile } from 'vite-plugin-singlefile';

const root = import.meta.dirname;
/** Where builds put the template; the app serves it beside index.html, the CLI reads it. */
export const REPORT_TEMPLATE = 'report-template.html';

function withoutEngine(): Plugin {
  const engine = resolve(root, 'src/state/engine.ts');
  const stand = resolve(root, 'src/report/no-engine.ts');
  return {
    name: 'depass-report-no-engine',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      const found = await this.resolve(source, importer, { ...options, skipSelf: true });
      return found?.id === engine ? stand : null;
    },
  };
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The policy, with the hashes of the inline script and style the page holds once built. */
function reportPolicy(): Plugin {
  return {
    name: 'depass-report-policy',
    enforce: 'post',
    // After the single-file plugin has put the script and style inline (its hook is 'post' too).
    generateBundle: {
      order: 'post',
      handler(_options, bundle) {
        for (const file of Object.values(bundle)) {
          if (file.type !== 'asset' || !file.fileName.endsWith('.html')) continue;
          const html = String(file.source);
          const scripts = [...html.matchAll(/<script(?![^>]*application\/json)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => sha256(m[1]!));
          const styles = [...html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/g)].map((m) => sha256(m[1]!));
          const policy = [
            "default-src 'none'",
            `script-src ${scripts.join(' ')}`,
            `style-src ${styles.join(' ') || "'none'"}`,
            'img-src data: blob:',
            "connect-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
          ].join('; ');
          file.source = html.replace(
            '<meta charset="UTF-8" />',
            `<meta charset="UTF-8" />\n    <meta http-equiv="Content-Security-Policy" content="${policy}" />`,
          );
        }
      },
    },
  };
}

export default defineConfig({
  root,
  plugins: [withoutEngine(), react(), viteSingleFile({ removeViteModuleLoader: true, outputFileName: REPORT_TEMPLATE }), reportPolicy()],
  // A report made by any build never talks to the Hub; the constant only has to exist.
  define: { __DEPASS_HUB_URL__: JSON.stringify('') },
  // The demo models and icons stay with the app; a report carries nothing but itself.
  publicDir: false,
  build: {
    target: 'es2022',
    modulePreload: { polyfill: false },
    outDir: 'build/report',
    emptyOutDir: true,
    rollupOptions: { input: resolve(root, 'report.html') },
  },
});
