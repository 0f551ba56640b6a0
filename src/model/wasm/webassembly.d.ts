/**
 * The part of the WebAssembly JavaScript API that src/model/wasm/kernels.ts uses. Node 20 has it
 * all, but neither lib ES2022 nor @types/node 20 declares it (lib.dom does, with all of the DOM).
 */
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }

  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }

  class Module {
    constructor(bytes: BufferSource);
  }

  type ExportValue = ((...args: number[]) => number | void) | Memory;
  type Imports = Record<string, Record<string, ExportValue | number>>;

  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, ExportValue>;
  }

  function validate(bytes: BufferSource): boolean;
}

type BufferSource = ArrayBufferView | ArrayBuffer;
