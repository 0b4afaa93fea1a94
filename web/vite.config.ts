import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dashboard builds to web/dist, which `ferry serve` serves at `/`. In `vite dev`, API calls go to
// a Ferry on FERRY_URL (default http://localhost:8080).
const ferry = process.env.FERRY_URL ?? 'http://localhost:8080';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: { proxy: { '/api': ferry } },
});
