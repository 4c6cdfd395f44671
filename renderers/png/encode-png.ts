/**
 * RGBA pixels → PNG bytes with Node's zlib. resvg-js's own asPng() spends ~19 ms on a 1,736 × 926 chart (its
 * encoder's filter search and compression level are fixed); dropping the alpha channel of an opaque image and
 * deflating unfiltered rows at level 3 takes ~8 ms for a file of the same size (90 KB against 89 KB), since
 * rendered charts and tables are mostly flat colour that deflate's run matching handles without filters.
 * pngjs (tried) is slower than either. Images with any transparent pixel keep their alpha channel.
 */
import { promisify } from 'node:util';
import { crc32, deflate } from 'node:zlib';

const deflateAsync = promisify(deflate);

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLOUR_RGB = 2;
const COLOUR_RGBA = 6;

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * RGB scanlines (filter byte 0 in front of each) when every pixel is opaque, else undefined. Each pixel is read
 * and written as one little-endian 32-bit word, its alpha byte landing where the next pixel's red (or the next
 * row's filter byte) is written next: ~4× faster than copying byte by byte (7 ms against 25 ms for 4 megapixels).
 */
function opaqueRgbRows(rgba: Uint8Array, width: number, height: number): Buffer | undefined {
  const stride = width * 3 + 1;
  // One spare byte for the last pixel's alpha.
  const rgb = Buffer.allocUnsafe(stride * height + 1);
  const input = new DataView(rgba.buffer, rgba.byteOffset, rgba.length);
  const output = new DataView(rgb.buffer, rgb.byteOffset, rgb.length);
  for (let y = 0, src = 0; y < height; y++) {
    let dst = y * stride;
    rgb[dst++] = 0;
    for (let x = 0; x < width; x++, src += 4, dst += 3) {
      const pixel = input.getUint32(src, true);
      if (pixel >>> 24 !== 255) return undefined;
      output.setUint32(dst, pixel, true);
    }
  }
  return rgb.subarray(0, stride * height);
}

/** Scanlines with filter byte 0 in front of each: RGB when every pixel is opaque, else RGBA as given. */
function scanlines(rgba: Uint8Array, width: number, height: number): { rows: Buffer; colour: number } {
  const rgb = opaqueRgbRows(rgba, width, height);
  if (rgb) return { rows: rgb, colour: COLOUR_RGB };
  const stride = width * 4;
  const rows = Buffer.allocUnsafe((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (stride + 1)] = 0;
    rows.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  return { rows, colour: COLOUR_RGBA };
}

/** Encodes 8-bit RGBA pixels (row-major, width × height × 4 bytes) as a PNG; deflate runs on libuv's pool. */
export async function encodePng(rgba: Uint8Array, width: number, height: number): Promise<Buffer> {
  if (rgba.length !== width * height * 4) {
    throw new RangeError(`expected ${width * height * 4} bytes of RGBA, got ${rgba.length}`);
  }
  const { rows, colour } = scanlines(rgba, width, height);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = colour;
  // compression 0 (deflate), filter method 0, interlace 0: the zero bytes alloc() left.
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', await deflateAsync(rows, { level: 3 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
