// The only place that loads mediasoup, after selecting the worker binary.
import { useBuiltWorker } from './worker-binary.ts';

useBuiltWorker();
const mediasoup = await import('mediasoup');

export default mediasoup;
export type { types } from 'mediasoup';
