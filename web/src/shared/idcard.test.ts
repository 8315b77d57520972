import { describe, expect, it } from 'vitest'
import { idCheckChar, validDocument, validIdNumber, validPhone } from './idcard'

describe('ID numbers', () => {
  it('check the GB 11643 check character', () => {
    expect(idCheckChar('11010519491231002')).toBe('X')
    expect(validIdNumber('11010519491231002X')).toBe(true)
    expect(validIdNumber('11010519491231002x')).toBe(true)
    expect(validIdNumber('110105194912310021')).toBe(false)
    expect(validIdNumber('610113199001011013')).toBe(idCheckChar('61011319900101101') === '3')
  })
  it('refuse impossible or future birth dates and bad shapes', () => {
    const withCheck = (s: string) => s + idCheckChar(s)
    expect(validIdNumber(withCheck('61011319900230101'))).toBe(false) // 30 February
    expect(validIdNumber(withCheck('61011320991231101'), new Date('2026-01-01'))).toBe(false)
    expect(validIdNumber('6101131990010110')).toBe(false)
  })
  it('check other documents loosely, as the server does', () => {
    expect(validDocument('PASSPORT', 'E12345678')).toBe(true)
    expect(validDocument('PASSPORT', 'E1-2345')).toBe(false)
    expect(validDocument('HK_MACAO', 'H1234567890')).toBe(true)
  })
  it('check phones', () => {
    expect(validPhone('13800138000')).toBe(true)
    expect(validPhone('12800138000')).toBe(false)
    expect(validPhone('1380013800')).toBe(false)
  })
})
