/**
 * An image's size and, where its header says so, that it is grayscale, read from the PNG IHDR chunk
 * or the JPEG SOF segment without decoding a pixel, so a huge image is refused before it costs
 * anything. Nothing here knows where the file is: `readAt` reads it.
 */
export interface ImageHeader {
  readonly width: number;
  readonly height: number;
  /** True when the encoding can only hold gray; false when it may hold colour (the pixels decide). */
  readonly grayOnly: boolean;
}

/** Reads up to `length` bytes at `position`; fewer at the end of the file. */
export type ReadAt = (position: number, length: number) => Promise<Buffer>;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** PNG colour types 0 (gray) and 4 (gray with alpha). */
const PNG_GRAY_TYPES = new Set([0, 4]);
/** Baseline, extended and progressive Huffman JPEG: the codings jpeg-js decodes. */
const JPEG_DECODABLE_SOF = new Set([0xc0, 0xc1, 0xc2]);
/** Other start-of-frame markers (lossless, arithmetic, hierarchical): refused rather than failing at training. */
const JPEG_OTHER_SOF = new Set([0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
const JPEG_START_OF_SCAN = 0xda;

/** Throws an Error with a message that says what is wrong, not naming the file. */
export async function readImageHeader(readAt: ReadAt, isPng: boolean): Promise<ImageHeader> {
  return isPng ? pngHeader(readAt) : jpegHeader(readAt);
}

async function pngHeader(readAt: ReadAt): Promise<ImageHeader> {
  const head = await readAt(0, 26);
  if (head.length < 26 || !head.subarray(0, 8).equals(PNG_SIGNATURE) || head.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error('not a PNG file (no signature and IHDR chunk)');
  }
  return { width: head.readUInt32BE(16), height: head.readUInt32BE(20), grayOnly: PNG_GRAY_TYPES.has(head[25]!) };
}

async function jpegHeader(readAt: ReadAt): Promise<ImageHeader> {
  const start = await readAt(0, 2);
  if (start.length < 2 || start[0] !== 0xff || start[1] !== 0xd8) throw new Error('not a JPEG file (no start-of-image marker)');
  // Segments are walked by their lengths, so only 4 bytes of each are read until the frame header.
  for (let position = 2; ; ) {
    const marker = await readAt(position, 4);
    if (marker.length < 4 || marker[0] !== 0xff) throw new Error('not a JPEG file (no frame header before the end)');
    const type = marker[1]!;
    if (type === 0xff) {
      position += 1; // fill byte
      continue;
    }
    if (type === JPEG_START_OF_SCAN) throw new Error('not a JPEG file (scan data before the frame header)');
    if (JPEG_OTHER_SOF.has(type)) throw new Error(`JPEG coding 0x${type.toString(16)} is not supported (baseline and progressive only)`);
    if (JPEG_DECODABLE_SOF.has(type)) {
      const frame = await readAt(position + 4, 6);
      if (frame.length < 6) throw new Error('not a JPEG file (truncated frame header)');
      return { height: frame.readUInt16BE(1), width: frame.readUInt16BE(3), grayOnly: frame[5] === 1 };
    }
    position += 2 + marker.readUInt16BE(2);
  }
}
