// Document numbers as the backend checks them (idnumber.go): the 18-character
// resident ID with its GB 11643 check character, and simple formats for the
// other documents.

const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const checkChars = '10X98765432'

/** The check character of the first 17 digits of an ID number, or null. */
export function idCheckChar(first17: string): string | null {
  if (!/^\d{17}$/.test(first17)) return null
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * weights[i]!
  return checkChars[sum % 11]!
}

/** Whether s is a valid 18-character resident ID: digits, a real birth date, the check character. */
export function validIdNumber(s: string, today: Date = new Date()): boolean {
  const v = s.trim().toUpperCase()
  if (!/^\d{17}[\dX]$/.test(v)) return false
  const y = Number(v.slice(6, 10))
  const m = Number(v.slice(10, 12))
  const d = Number(v.slice(12, 14))
  const birth = new Date(Date.UTC(y, m - 1, d))
  if (y < 1900 || birth.getUTCMonth() !== m - 1 || birth.getUTCDate() !== d || birth.getTime() > today.getTime()) return false
  return idCheckChar(v.slice(0, 17)) === v[17]
}

export type DocType = 'ID_CARD' | 'PASSPORT' | 'HK_MACAO' | 'TAIWAN'

/** Whether a document number has the right shape for its type (the server checks again). */
export function validDocument(type: DocType, s: string): boolean {
  const v = s.trim().toUpperCase()
  switch (type) {
    case 'ID_CARD':
      return validIdNumber(v)
    default:
      // Passports and the travel permits: 5 to 20 letters and digits (idnumber.go).
      return /^[A-Z0-9]{5,20}$/.test(v)
  }
}

export function validPhone(s: string): boolean {
  return /^1[3-9]\d{9}$/.test(s.trim())
}
