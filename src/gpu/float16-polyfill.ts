// A stand-in Float16Array for runtimes that lack one (Node 20, older browsers), installed before
// webgpu-utils is evaluated: that library names Float16Array in its type tables at load time.
// The engine's uniform structs hold only u32/i32/f32 fields, so the stand-in is never used for data.

const g = globalThis as { Float16Array?: unknown };
if (typeof g.Float16Array === 'undefined') {
  g.Float16Array = class Float16ArrayStandIn extends Uint16Array {};
}

export {};
