// Test data: valid resident ID numbers (GB 11643 check character).
const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
export function idNumber(first17) {
  let s = 0
  for (let i = 0; i < 17; i++) s += Number(first17[i]) * weights[i]
  return first17 + '10X98765432'[s % 11]
}

export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`)
}

/** A 1×1 PNG, as an evidence photo. */
export const pixelPNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
)
