import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The gateway serves the built app at `/` and the API beside it, so in development the same
// paths are proxied to a locally running gateway: the page stays same-origin either way.
const gateway = "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/v1": { target: gateway, changeOrigin: false },
      "/openapi.json": { target: gateway },
      "/healthz": { target: gateway },
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Source maps would be served from /assets too; they are not needed in the product.
    sourcemap: false,
    // Keep every asset a file: the Content-Security-Policy allows `data:` for images only.
    assetsInlineLimit: 0,
    rolldownOptions: {
      output: {
        // React and the router change far less often than the console: a chunk of their own
        // stays cached across console releases. ECharts is split off by its dynamic import.
        codeSplitting: {
          groups: [
            { name: "react", test: /node_modules[\\/](react|react-dom|scheduler|react-router)[\\/]/ },
            { name: "data", test: /node_modules[\\/](@tanstack|i18next|react-i18next|openapi-fetch)[\\/]/ },
          ],
        },
      },
    },
    // ECharts' chunk (core, bar chart, canvas renderer) is ~530 kB minified, ~180 kB gzipped,
    // and only loaded by pages that draw a chart.
    chunkSizeWarningLimit: 600,
  },
});
