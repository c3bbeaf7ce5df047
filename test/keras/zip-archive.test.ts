import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execa } from 'execa';
import fc from 'fast-check';
import { Zip, ZipDeflate, ZipPassThrough, zipSync } from 'fflate';
import { InputError } from '../../src/errors.js';
import { archiveLimits, RATIO_FREE_BYTES, type ArchiveLimits } from '../../src/keras/keras-file/zip/archive-limits.js';
import { tableCrc32 } from '../../src/keras/keras-file/zip/crc32.js';
import type { ByteSource } from '../../src/keras/keras-file/zip/byte-source.js';
import { checkStoredEntry, openZipArchive, readZipEntry } from '../../src/keras/keras-file/zip/zip-archive.js';
import { REPO_ROOT } from '../support/paths.js';
import { concat, deflatedZeros, patchEnd, patchEntry, toZip64Central, toZip64End, writeZip, zerosCrc32, zipLayout } from '../support/zip-bytes.js';

const FILE = 'model.keras';
/** KERAS_BRIDGE_FUZZ=1 (npm run fuzz): the properties below run 20 times as many cases. */
const FUZZ_SCALE = /^[1-9]\d*$/.test(process.env['KERAS_BRIDGE_FUZZ'] ?? '') ? 20 : 1;
const text = (s: string) => new TextEncoder().encode(s);

/** Every entry of a zip, as the reader gives it. */
function readAll(bytes: Uint8Array, limits: Partial<ArchiveLimits> = {}): Record<string, Uint8Array> {
  const zip = openZipArchive(bytes, FILE, archiveLimits(limits));
  return Object.fromEntries(zip.entries.map((entry) => [entry.name, readZipEntry(zip, entry)]));
}

function refuses(bytes: Uint8Array, message: RegExp, limits: Partial<ArchiveLimits> = {}): void {
  assert.throws(() => readAll(bytes, limits), (e: Error) => {
    assert.ok(e instanceof InputError, `an InputError, not ${e.name}: ${e.message}`);
    assert.match(e.message, message);
    return true;
  });
}

const SAMPLE: Record<string, Uint8Array> = {
  'metadata.json': text('{"keras_version": "3.10.0"}'),
  'config.json': text(JSON.stringify({ module: 'keras', class_name: 'Sequential', config: { layers: [] } })),
  'model.weights.h5': Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251),
};
const stored = () => zipSync(SAMPLE, { level: 0 });
const deflated = () => zipSync(SAMPLE, { level: 6 });

describe('zip reader for .keras files: bounded, and refusing what Keras would read differently', () => {
  describe('reads what zip writers write', () => {
    it('stored and deflated entries, byte for byte', () => {
      assert.deepEqual(readAll(stored()), SAMPLE);
      assert.deepEqual(readAll(deflated()), SAMPLE);
    });

    it('an empty archive', () => assert.deepEqual(readAll(zipSync({})), {}));

    it('the table CRC-32 (Node before 20.15) is zlib\'s', () => {
      const crc = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
      for (const bytes of Object.values(SAMPLE)) assert.equal(tableCrc32(bytes), crc ? crc(bytes) >>> 0 : tableCrc32(bytes));
      assert.equal(tableCrc32(text('123456789')), 0xcbf43926); // the CRC-32 check value
    });

    it('central directory records in zip64 form (both forms together too)', () => {
      assert.deepEqual(readAll(toZip64Central(stored())), SAMPLE);
      assert.deepEqual(readAll(toZip64Central(deflated())), SAMPLE);
      assert.deepEqual(readAll(toZip64End(toZip64Central(deflated()))), SAMPLE);
      const damaged = toZip64Central(stored());
      damaged[zipLayout(damaged).entries[2]!.dataStart + 10]! ^= 0x80;
      refuses(damaged, /zip entry 'model\.weights\.h5': CRC-32/);
      // The extra field must hold what the sentinels say it does.
      const short = toZip64Central(stored());
      new DataView(short.buffer).setUint16(zipLayout(short).entries[0]!.central + 46 + 'metadata.json'.length + 2, 8, true);
      refuses(short, /zip entry 'metadata\.json': /);
    });

    it('an end record in zip64 form, and a damaged byte in it is still caught', () => {
      const zip64 = toZip64End(stored());
      assert.deepEqual(readAll(zip64), SAMPLE);
      assert.deepEqual(readAll(toZip64End(stored(), { sentinels: false })), SAMPLE);
      const weights = zipLayout(zip64).entries[2]!;
      const damaged = zip64.slice();
      damaged[weights.dataStart + 1000]! ^= 0x01;
      refuses(damaged, /^model\.keras: zip entry 'model\.weights\.h5': CRC-32 [0-9a-f]{8} of its bytes disagrees with the [0-9a-f]{8} the archive records/);
    });

    describe('genuine zip64 archives written by Python', () => {
      let tmp: string;
      before(async () => {
        tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-zip64-'));
      });
      after(async () => rm(tmp, { recursive: true, force: true }));
      const python = (script: string, ...args: string[]) => execa(path.join(REPO_ROOT, '.venv', 'bin', 'python'), ['-c', script, ...args]);

      it('zip64 local and central extra fields (force_zip64), stored and deflated', async () => {
        const file = path.join(tmp, 'entries64.zip');
        await python(
          `import sys, zipfile
data = bytes(range(256)) * 40
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    with z.open('stored.bin', 'w', force_zip64=True) as f: f.write(data)
    info = zipfile.ZipInfo('deflated.bin'); info.compress_type = zipfile.ZIP_DEFLATED
    with z.open(info, 'w', force_zip64=True) as f: f.write(data)
    z.writestr('plain.txt', 'plain')`,
          file,
        );
        const bytes = new Uint8Array(readFileSync(file));
        const expected = Uint8Array.from({ length: 256 * 40 }, (_, i) => i % 256);
        const localSizes = zipLayout(bytes).entries.map((e) => new DataView(bytes.buffer).getUint32(e.local + 18, true));
        assert.deepEqual(localSizes.slice(0, 2), [0xffffffff, 0xffffffff], 'Python wrote zip64 local headers');
        assert.deepEqual(readAll(bytes), { 'stored.bin': expected, 'deflated.bin': expected, 'plain.txt': text('plain') });
        for (const entry of zipLayout(bytes).entries.slice(0, 2)) {
          const damaged = bytes.slice();
          damaged[entry.dataStart + 7]! ^= 0x10;
          refuses(damaged, new RegExp(`zip entry '${entry.name}': (CRC-32|deflate data)`));
        }
      });

      it('a zip64 end record (65,536 entries), read with maxEntries raised and refused under the default', async () => {
        const file = path.join(tmp, 'many.zip');
        await python(
          `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for i in range(65536): z.writestr(str(i), b'')
    z.writestr('last', b'the end')`,
          file,
        );
        const bytes = new Uint8Array(readFileSync(file));
        const zip = openZipArchive(bytes, FILE, archiveLimits({ maxEntries: 70_000 }));
        assert.equal(zip.entries.length, 65537);
        assert.deepEqual(readZipEntry(zip, zip.entries.at(-1)!), text('the end'));
        refuses(bytes, /^model\.keras: the zip end record counts 65537 entries, over the 10000 limit \(maxEntries, CLI --max-zip-entries\)/);
      });
    });
  });

  describe('refuses, naming the file, the entry and the field', () => {
    it('a truncated archive', () => {
      refuses(stored().subarray(0, 200), /^model\.keras: not a readable \.keras \(zip\) file: no zip end-of-central-directory record .*truncated/);
    });

    it('a damaged byte in a stored and in a deflated entry', () => {
      for (const bytes of [stored(), deflated()]) {
        const config = zipLayout(bytes).entries[1]!;
        const damaged = bytes.slice();
        damaged[config.dataStart + 5]! ^= 0x04;
        refuses(damaged, /^model\.keras: zip entry 'config\.json': (CRC-32|deflate data)/);
      }
    });

    it('the encryption flag (bit 0), in the central directory or the local header', () => {
      refuses(patchEntry(stored(), 1, 'flags', 1), /zip entry 'config\.json': central directory: flags 0x1 mark it encrypted/);
      refuses(patchEntry(stored(), 1, 'flags', 1, 'local'), /zip entry 'config\.json': local header \(at byte \d+\): flags 0x1 mark it encrypted/);
    });

    it('compression methods other than stored and deflate', () => {
      refuses(patchEntry(deflated(), 2, 'method', 12), /zip entry 'model\.weights\.h5': central directory: compression method 12; only 0 \(stored\) and 8 \(deflate\)/);
    });

    it('a local header whose name, method, sizes or CRC disagree with the central directory', () => {
      const bytes = stored();
      const nameAt = zipLayout(bytes).entries[2]!.local + 30;
      const renamed = bytes.slice();
      renamed[nameAt] = 'M'.charCodeAt(0);
      refuses(renamed, /zip entry 'model\.weights\.h5': local header \(at byte \d+\): name 'Model\.weights\.h5' differs from the central directory's/);
      refuses(patchEntry(deflated(), 2, 'method', 0, 'local'), /zip entry 'model\.weights\.h5': local header \(at byte \d+\): compression method 0 differs from the central directory's 8/);
      refuses(patchEntry(deflated(), 2, 'compressedSize', 10, 'local'), /zip entry 'model\.weights\.h5': local header \(at byte \d+\): compressed size 10 differs from the central directory's/);
      refuses(patchEntry(stored(), 0, 'crc', 7, 'local'), /zip entry 'metadata\.json': local header \(at byte \d+\): CRC-32 7 differs/);
    });

    it('end record entry counts that disagree with the central directory or each other', () => {
      refuses(patchEnd(patchEnd(stored(), 'entries', 2), 'entriesOnDisk', 2), /not a readable \.keras \(zip\) file: zip end record: entry count 2 disagrees with the central directory, which holds more records/);
      refuses(patchEnd(patchEnd(stored(), 'entries', 4), 'entriesOnDisk', 4), /zip end record: entry count 4 disagrees with the 3 entries of the central directory/);
      refuses(patchEnd(stored(), 'entries', 4), /zip end record \(at byte \d+\): entries on this disk \(3\) disagree with entries in all \(4\)/);
      refuses(toZip64End(stored(), { zip64Entries: 2 }), /entry count 2 disagrees with the central directory/);
      refuses(toZip64End(stored(), { zip64Entries: 4, sentinels: false }), /zip end record \(at byte \d+\): entry count 3 disagrees with the zip64 end record's 4/);
    });

    it('duplicate names', () => {
      const bytes = zipSync({ 'a.txt': text('first'), 'b.txt': text('second') }, { level: 0 });
      const { entries } = zipLayout(bytes);
      const twice = bytes.slice();
      for (const at of [entries[1]!.local + 30, entries[1]!.central + 46]) twice[at] = 'a'.charCodeAt(0);
      refuses(twice, /zip entry 'a\.txt': central directory: the name appears twice/);
    });

    it('entries that overlap, or whose header or data lie outside the entries\' area', () => {
      const bytes = stored();
      const { entries, directoryOffset } = zipLayout(bytes);
      const over = entries[2]!.local + 40 - entries[1]!.dataStart; // config.json's data now runs over the weights' header
      const overlapping = patchEntry(patchEntry(bytes, 1, 'compressedSize', over), 1, 'uncompressedSize', over);
      refuses(overlapping, /zip entry 'model\.weights\.h5': central directory: local header offset \d+ lies inside entry 'config\.json'/);
      const outside = new DataView(bytes.slice().buffer);
      outside.setUint32(entries[2]!.central + 42, directoryOffset + 5, true);
      refuses(new Uint8Array(outside.buffer), /zip entry 'model\.weights\.h5': central directory: local header offset \d+ lies outside the entries' area/);
      const long = entries[2]!.compressedSize + 100;
      refuses(patchEntry(patchEntry(bytes, 2, 'compressedSize', long), 2, 'uncompressedSize', long), /zip entry 'model\.weights\.h5': central directory: its \d+ compressed bytes from byte \d+ run into the central directory/);
    });

    it('a central directory running past the end record, or not ending where it starts', () => {
      const bytes = stored();
      const size = new DataView(bytes.buffer).getUint32(zipLayout(bytes).end + 12, true);
      refuses(patchEnd(bytes, 'directorySize', size + 30), /central directory: bytes \d+-\d+ run past the end record at byte \d+; the file may be truncated/);
      refuses(patchEnd(bytes, 'directorySize', size - 1), /central directory: ends at byte \d+, but the end record starts at byte \d+/);
      refuses(concat([new Uint8Array(64), bytes]), /central directory: ends at byte \d+, but the end record starts/);
    });

    it('bytes after the end record that its comment length does not account for', () => {
      refuses(concat([stored(), new Uint8Array(10)]), /zip end record \(at byte \d+\): comment length 0 disagrees with the 10 bytes after the record/);
    });
  });

  describe('zip bombs: limits checked before inflating, inflation stopped at the declared size', () => {
    const zeros200 = deflatedZeros(200); // 200 MiB of zeros in about 200 KB

    it('an entry that inflates far past its declared size stops there, in little time and memory', () => {
      const bomb = writeZip([{ name: 'config.json', raw: zeros200, size: 1000 }]);
      const before = process.memoryUsage();
      const started = Date.now();
      refuses(bomb, /^model\.keras: zip entry 'config\.json': deflate data inflates past the 1000 bytes the central directory declares \(a zip bomb/);
      const after = process.memoryUsage();
      assert.ok(Date.now() - started < 2000, `stopped in ${Date.now() - started} ms`);
      assert.ok(after.arrayBuffers + after.external - before.arrayBuffers - before.external < 32 << 20, 'no more than a few MiB allocated');
    });

    it('an entry that inflates to less than its declared size', () => {
      refuses(writeZip([{ name: 'a', raw: zlib.deflateRawSync(text('short')), size: 10 }]), /zip entry 'a': deflate data inflates to 5 bytes, not the 10 bytes the central directory declares/);
    });

    it('a declared size or ratio over the limits is refused before anything is inflated', () => {
      const honest = writeZip([{ name: 'model.weights.h5', raw: zeros200, size: 200 << 20, crc: zerosCrc32(200) }]);
      refuses(honest, /zip entry 'model\.weights\.h5': declares 200 MiB from [0-9.]+ KiB compressed \(ratio \d+\), over the 100 limit \(maxCompressionRatio, CLI --max-compression-ratio\)/);
      refuses(honest, /zip entry 'model\.weights\.h5': declares 200 MiB uncompressed, over the 100 MiB limit \(maxEntryBytes, CLI --max-entry-bytes\)/, { maxCompressionRatio: 1e6, maxEntryBytes: 100 << 20 });
      refuses(honest, /its 1 zip entries declare 200 MiB uncompressed in all, over the 150 MiB limit \(maxUncompressedBytes/, { maxCompressionRatio: 1e6, maxUncompressedBytes: 150 << 20 });
      // Within every limit it reads: the limits do not refuse what they allow.
      const zip = openZipArchive(honest, FILE, archiveLimits({ maxCompressionRatio: 1e6 }));
      assert.equal(readZipEntry(zip, zip.entries[0]!).length, 200 << 20);
      const huge = writeZip([{ name: 'config.json', raw: zeros200, size: 0xfffffff0 }]);
      refuses(huge, /zip entry 'config\.json': declares 4 GiB uncompressed, over the 2 GiB limit \(maxEntryBytes/, { maxCompressionRatio: 1e9 });
    });

    it('config.json and metadata.json are held to maxJsonBytes before they are inflated or parsed', () => {
      const json = writeZip([{ name: 'config.json', raw: deflatedZeros(80), size: 80 << 20, crc: zerosCrc32(80) }]);
      const zip = openZipArchive(json, FILE, archiveLimits({ maxCompressionRatio: 1e6 }));
      assert.throws(() => readZipEntry(zip, zip.entries[0]!, 'maxJsonBytes'), /zip entry 'config\.json': declares 80 MiB uncompressed, over the 64 MiB limit \(maxJsonBytes, CLI --max-json-bytes\)/);
    });
  });

  describe('properties', () => {
    const names = fc.uniqueArray(fc.stringMatching(/^[a-z0-9_.\/-]{1,24}$/), { minLength: 0, maxLength: 6 });
    const entrySets = names.chain((keys) =>
      fc.tuple(
        fc.tuple(...keys.map(() => fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.string({ maxLength: 2000 }).map(text)))),
        fc.integer({ min: 0, max: 9 }),
      ).map(([values, level]) => ({ entries: keys.map((k, i): [string, Uint8Array] => [k, values[i]!]), level: level as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 })),
    );

    /**
     * Zips named entries in order with fflate's streaming writer. Its zipSync takes an object, and an
     * entry named '__proto__' (fast-check generates it on purpose) would set that object's prototype
     * instead of naming an entry; names a user's archive may hold must reach the reader as written.
     */
    function zipInOrder(entries: [string, Uint8Array][], level: number): Uint8Array {
      const parts: Uint8Array[] = [];
      const zip = new Zip((error, chunk) => {
        if (error) throw error;
        parts.push(chunk);
      });
      for (const [name, data] of entries) {
        const file = level === 0 ? new ZipPassThrough(name) : new ZipDeflate(name, { level: level as 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 });
        zip.add(file);
        file.push(data, true);
      }
      zip.end();
      return concat(parts);
    }

    it('reads back exactly what fflate zipped, stored or deflated', () => {
      fc.assert(
        fc.property(entrySets, ({ entries, level }) => {
          const zip = openZipArchive(zipInOrder(entries, level), FILE, archiveLimits());
          assert.deepEqual(zip.entries.map((entry): [string, Uint8Array] => [entry.name, readZipEntry(zip, entry)]), entries);
        }),
        { numRuns: 200 * FUZZ_SCALE },
      );
    });

    it("reads an entry named '__proto__' as any other", () => {
      const entries: [string, Uint8Array][] = [['__proto__', text('a')], ['constructor', text('b')]];
      const zip = openZipArchive(zipInOrder(entries, 6), FILE, archiveLimits());
      assert.deepEqual(zip.entries.map((entry): [string, Uint8Array] => [entry.name, readZipEntry(zip, entry)]), entries);
    });

    it('a valid archive with bytes changed reads as the original or is refused with an InputError, nothing else', () => {
      const originals = [stored(), deflated(), toZip64End(stored())];
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: originals.length - 1 }),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }),
          (which, changes) => {
            const bytes = originals[which]!.slice();
            for (const [at, xor] of changes) bytes[at % bytes.length]! ^= xor;
            let read: Record<string, Uint8Array>;
            try {
              read = readAll(bytes);
            } catch (e) {
              assert.ok(e instanceof InputError, `${(e as Error).name}: ${(e as Error).message}`);
              assert.match(e.message, /^model\.keras: /);
              return;
            }
            assert.deepEqual(read, SAMPLE);
          },
        ),
        { numRuns: 300 * FUZZ_SCALE },
      );
    });

    it('declared sizes are refused exactly when they pass a limit', () => {
      const sizes = fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 1, maxLength: 5 });
      const limits = fc.record({
        maxEntries: fc.integer({ min: 1, max: 6 }),
        maxUncompressedBytes: fc.integer({ min: 1, max: 12_000 }),
        maxEntryBytes: fc.integer({ min: 1, max: 4500 }),
        maxJsonBytes: fc.integer({ min: 1, max: 4500 }),
        maxCompressionRatio: fc.integer({ min: 1, max: 5 }),
      });
      fc.assert(
        fc.property(sizes, limits, (entrySizes, limit) => {
          const bytes = zipSync(Object.fromEntries(entrySizes.map((n, i) => [`e${i}`, new Uint8Array(n).fill(i)])), { level: 0 });
          const total = entrySizes.reduce((a, b) => a + b, 0);
          const expected =
            entrySizes.length > limit.maxEntries ? /maxEntries/ :
            total > limit.maxUncompressedBytes ? /maxUncompressedBytes/ :
            entrySizes.some((n) => n > limit.maxEntryBytes) ? /maxEntryBytes/ : undefined;
          if (expected) refuses(bytes, expected, limit);
          else assert.equal(Object.keys(readAll(bytes, limit)).length, entrySizes.length);
        }),
        { numRuns: 200 * FUZZ_SCALE },
      );
    });

    it('a deflated entry is refused for its ratio exactly when it declares more than 1 MiB at a ratio over the limit', () => {
      const raw = zlib.deflateRawSync(new Uint8Array(5000));
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 1_000_000 }), (size, ratio) => {
          const bytes = writeZip([{ name: 'w', raw, size }]);
          const refused = size > RATIO_FREE_BYTES && size / raw.length > ratio;
          const limits = archiveLimits({ maxCompressionRatio: ratio, maxEntryBytes: 2 ** 31, maxUncompressedBytes: 2 ** 31 });
          if (refused) assert.throws(() => openZipArchive(bytes, FILE, limits), /zip entry 'w': declares .* \(ratio \d+\), over the \d+ limit \(maxCompressionRatio/);
          else assert.equal(openZipArchive(bytes, FILE, limits).entries[0]!.uncompressedSize, size);
        }),
        { numRuns: 300 * FUZZ_SCALE },
      );
    });
  });
});

describe('zip reader: a large stored entry is checked in place, never read whole', () => {
  const weights = Uint8Array.from({ length: 24 << 20 }, (_, i) => (i * 2654435761) >>> 24);
  const zip = zipSync({ 'config.json': SAMPLE['config.json']!, 'model.weights.h5': [weights, { level: 0 }] });

  /** The zip as a ByteSource that counts the bytes it allocates for its callers (reads into a caller's buffer allocate nothing). */
  function counting(bytes: Uint8Array): ByteSource & { allocated: number } {
    const source = {
      size: bytes.length,
      allocated: 0,
      read(start: number, length: number, into?: Uint8Array): Uint8Array {
        const view = bytes.subarray(start, start + length);
        if (into) {
          into.set(view);
          return into.subarray(0, view.length);
        }
        source.allocated += view.length;
        return view.slice();
      },
    };
    return source;
  }

  it('reads records and the small entries, and checks the large one a chunk at a time into one buffer', () => {
    const source = counting(zip);
    const archive = openZipArchive(source, FILE, archiveLimits({}));
    const entry = archive.entries.find((e) => e.name === 'model.weights.h5')!;
    checkStoredEntry(archive, entry);
    assert.deepEqual(readZipEntry(archive, archive.entries.find((e) => e.name === 'config.json')!), SAMPLE['config.json']);
    // The end record's search area (64 KiB) and the records, not the 24 MiB entry.
    assert.ok(source.allocated < 128 * 1024, `${source.allocated} bytes read into new memory`);
  });

  it('still refuses the entry whose bytes disagree with its CRC-32', () => {
    const damaged = zip.slice();
    const archive = openZipArchive(damaged, FILE, archiveLimits({}));
    const entry = archive.entries.find((e) => e.name === 'model.weights.h5')!;
    damaged[entry.dataStart + 20_000_000] ^= 1;
    assert.throws(() => checkStoredEntry(archive, entry), /zip entry 'model\.weights\.h5': CRC-32 [0-9a-f]{8} of its bytes disagrees with the [0-9a-f]{8} the archive records/);
  });
});
