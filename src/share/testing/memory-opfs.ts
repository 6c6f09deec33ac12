// An in-memory stand-in for the origin private file system, for the remembered-models tests:
// directories, files written through writables (visible only after close, as in browsers, and
// continued with keepExistingData, seek and truncate), moves, a byte quota that fails writes the
// way browsers do, and a switch that breaks getDirectory.
// Not used by the app.

import type { DirHandleLike, FileHandleLike, StorageLike, WritableLike } from '../remembered';

class NamedError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

export class MemoryStorage implements StorageLike {
  readonly top = new MemoryDir('', this);
  /** Bytes all files may hold together. */
  quota = 1 << 30;
  /** Set to make getDirectory fail (a browser that refuses storage). */
  refuse = false;
  persistAnswer = true;
  persistCalls = 0;
  /** Writes and moves done so far (a move must not copy). */
  writes = 0;
  moves = 0;

  used(): number {
    return this.top.bytes();
  }
  async getDirectory(): Promise<DirHandleLike> {
    if (this.refuse) throw new NamedError('SecurityError', 'storage is not allowed here');
    return this.top;
  }
  async estimate() {
    return { usage: this.used(), quota: this.quota };
  }
  async persist() {
    this.persistCalls++;
    return this.persistAnswer;
  }
  async persisted() {
    return this.persistCalls > 0 && this.persistAnswer;
  }
}

class MemoryFile implements FileHandleLike {
  readonly kind = 'file' as const;
  data = new Uint8Array(0);
  constructor(
    public name: string,
    private readonly storage: MemoryStorage,
    public parent: MemoryDir,
  ) {}
  async getFile(): Promise<Blob> {
    return new Blob([this.data.slice()]);
  }
  /** Writes go to a working copy that replaces the file on close, as in browsers. */
  async createWritable(options?: { keepExistingData?: boolean }): Promise<WritableLike> {
    let work = options?.keepExistingData ? this.data.slice() : new Uint8Array(0);
    let position = 0;
    const resize = (n: number) => {
      const next = new Uint8Array(n);
      next.set(work.subarray(0, Math.min(n, work.length)));
      work = next;
    };
    return {
      write: async (data) => {
        const bytes =
          data instanceof Blob
            ? new Uint8Array(await data.arrayBuffer())
            : typeof data === 'string'
              ? new TextEncoder().encode(data)
              : ArrayBuffer.isView(data)
                ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
                : new Uint8Array(data as ArrayBuffer);
        const end = position + bytes.length;
        if (this.storage.used() + Math.max(end, work.length) > this.storage.quota) throw new NamedError('QuotaExceededError', 'The quota has been exceeded.');
        this.storage.writes++;
        if (end > work.length) resize(end);
        work.set(bytes, position);
        position = end;
      },
      seek: async (p) => {
        position = p;
      },
      truncate: async (n) => {
        resize(n);
        position = Math.min(position, n);
      },
      close: async () => {
        this.data = work;
      },
      abort: async () => {
        work = new Uint8Array(0);
      },
    };
  }
  async move(parent: DirHandleLike, name: string): Promise<void> {
    const to = parent as MemoryDir;
    this.parent.entries.delete(this.name);
    to.entries.set(name, this);
    this.parent = to;
    this.name = name;
    this.storage.moves++;
  }
}

export class MemoryDir implements DirHandleLike {
  readonly kind = 'directory' as const;
  readonly entries = new Map<string, MemoryDir | MemoryFile>();
  constructor(
    readonly name: string,
    private readonly storage: MemoryStorage,
  ) {}
  bytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e instanceof MemoryDir ? e.bytes() : e.data.length;
    return n;
  }
  async getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<MemoryDir> {
    const e = this.entries.get(name);
    if (e instanceof MemoryDir) return e;
    if (e) throw new NamedError('TypeMismatchError', `${name} is a file`);
    if (!options?.create) throw new NamedError('NotFoundError', `${name} not found`);
    const d = new MemoryDir(name, this.storage);
    this.entries.set(name, d);
    return d;
  }
  async getFileHandle(name: string, options?: { create?: boolean }): Promise<MemoryFile> {
    const e = this.entries.get(name);
    if (e instanceof MemoryFile) return e;
    if (e) throw new NamedError('TypeMismatchError', `${name} is a folder`);
    if (!options?.create) throw new NamedError('NotFoundError', `${name} not found`);
    const f = new MemoryFile(name, this.storage, this);
    this.entries.set(name, f);
    return f;
  }
  async removeEntry(name: string, options?: { recursive?: boolean }): Promise<void> {
    const e = this.entries.get(name);
    if (!e) throw new NamedError('NotFoundError', `${name} not found`);
    if (e instanceof MemoryDir && e.entries.size > 0 && !options?.recursive) throw new NamedError('InvalidModificationError', `${name} is not empty`);
    this.entries.delete(name);
  }
  async *values(): AsyncIterable<MemoryDir | MemoryFile> {
    for (const e of [...this.entries.values()]) yield e;
  }
}
