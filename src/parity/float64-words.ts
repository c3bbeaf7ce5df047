/**
 * Which 32-bit word of a float64, seen through a Uint32Array over the same bytes, holds its sign,
 * exponent and top 20 mantissa bits: 1 on little-endian platforms (all that Node runs on in
 * practice), 0 on big-endian ones. The error statistics read those bits for the histogram's decade
 * and to count values by magnitude.
 */
export const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
