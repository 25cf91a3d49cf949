import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The client lives in client/ and is built to dist/client, which the server serves.
export default defineConfig({
  root: 'client',
  plugins: [react()],
  build: {
    outDir: '../dist/client',
    emptyOutDir: true,
    sourcemap: true,
    // One call page: React, mediasoup-client, socket.io and zod in one chunk is expected.
    chunkSizeWarningLimit: 1200,
  },
  worker: { format: 'es' },
  server: {
    proxy: {
      '/socket.io': { target: 'http://127.0.0.1:3000', ws: true },
      '/api': 'http://127.0.0.1:3000',
    },
  },
});
