// Imported by cedar.ts before the Cedar engine loads. On Node 20 (V8 11.3), V8's inlining of JavaScript→WebAssembly
// calls into optimised code crashes the process under sustained decision load ("Fatal error … unreachable code"
// in the deoptimiser, SIGTRAP): seen in the authz benchmark and under the profiler. Turning that inlining off costs
// nothing measurable here and keeps the server alive. Later Node lines are not affected by this setting.
import v8 from 'node:v8';

if (process.versions.node.startsWith('20.')) v8.setFlagsFromString('--no-turbo-inline-js-wasm-calls');
