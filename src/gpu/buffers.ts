// GPU buffer helpers: labelled storage buffers padded for vec4 access, uploads and read-backs.
// Read-back is for results and tests only; the engine never maps buffers inside its layer loop.

/** Every storage buffer is a whole number of vec4s, so kernels may read weights as vec4<u32>. */
export const BUFFER_ALIGN = 16;

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

// Read lazily: in Node the GPUBufferUsage global exists only once the webgpu globals are installed.
function storageUsage(): number {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
}

export function createStorage(device: GPUDevice, label: string, byteLength: number): GPUBuffer {
  return device.createBuffer({ label, size: Math.max(BUFFER_ALIGN, alignUp(byteLength, BUFFER_ALIGN)), usage: storageUsage() });
}

/** A storage buffer holding `data` (any typed array or bytes; padded with zeros to 16 bytes). */
export function uploadStorage(device: GPUDevice, label: string, data: ArrayBufferView): GPUBuffer {
  const buffer = device.createBuffer({
    label,
    size: Math.max(BUFFER_ALIGN, alignUp(data.byteLength, BUFFER_ALIGN)),
    usage: storageUsage(),
    mappedAtCreation: true,
  });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  return buffer;
}

/** Writes `data` into `buffer` at `offset` bytes through the queue (size padded to 4 bytes). */
export function writeStorage(device: GPUDevice, buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
  const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength % 4 === 0) {
    device.queue.writeBuffer(buffer, offset, bytes);
  } else {
    const padded = new Uint8Array(alignUp(bytes.byteLength, 4));
    padded.set(bytes);
    device.queue.writeBuffer(buffer, offset, padded);
  }
}

/** Copies `byteLength` bytes at `offset` of a GPU buffer back to the CPU. */
export async function readBytes(device: GPUDevice, buffer: GPUBuffer, offset: number, byteLength: number): Promise<Uint8Array> {
  const size = alignUp(byteLength, 4);
  const staging = device.createBuffer({ label: `${buffer.label} read-back`, size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder({ label: `${buffer.label} read-back` });
  enc.copyBufferToBuffer(buffer, offset, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Uint8Array(staging.getMappedRange().slice(0, byteLength));
  staging.unmap();
  staging.destroy();
  return out;
}

export async function readF32(device: GPUDevice, buffer: GPUBuffer, offsetElems = 0, count?: number): Promise<Float32Array> {
  const n = count ?? buffer.size / 4 - offsetElems;
  const bytes = await readBytes(device, buffer, offsetElems * 4, n * 4);
  return new Float32Array(bytes.buffer, bytes.byteOffset, n);
}

export async function readU32(device: GPUDevice, buffer: GPUBuffer, offsetElems = 0, count?: number): Promise<Uint32Array> {
  const n = count ?? buffer.size / 4 - offsetElems;
  const bytes = await readBytes(device, buffer, offsetElems * 4, n * 4);
  return new Uint32Array(bytes.buffer, bytes.byteOffset, n);
}
