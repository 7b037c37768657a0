/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The dev server proxies the API to a running stack (nginx on 8080 by default, or the gateway
// alone on 8100: CHATLENS_API=http://127.0.0.1:8100), so the app and the API share one origin
// as they do behind nginx, and the refresh cookie works the same way.
const api = process.env.CHATLENS_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target: api, changeOrigin: false },
      "/v1": { target: api, changeOrigin: false },
    },
  },
  build: {
    target: "es2022",
    sourcemap: false,
    // No inline <script> may appear (the Content-Security-Policy forbids them).
    assetsInlineLimit: 0,
    rollupOptions: {
      output: {
        // Without it a page's chunk imports two dozen chunks of a few hundred bytes each (one per
        // Mantine component that two pages share): the search page's first load made 33 requests,
        // and inserting their modulepreload links took a phone's main thread a quarter second.
        // Chunks with no side effects under this size join a chunk loaded in the same places.
        experimentalMinChunkSize: 20_000,
      },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
    // Component tests render whole pages in jsdom; on a shared 2-core machine under load one can
    // take several seconds. A limit, not a speed check (speed is measured in bench/).
    testTimeout: 30_000,
  },
});
