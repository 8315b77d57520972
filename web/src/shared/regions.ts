// Places outside the region tree the API serves (Shaanxi only): the other
// provincial-level divisions by their NBS code, and common countries for
// travel abroad (ABROAD:<ISO 3166 alpha-2>).

export const provinces: ReadonlyArray<{ code: string; name: string }> = [
  { code: '11', name: '北京市' }, { code: '12', name: '天津市' }, { code: '13', name: '河北省' },
  { code: '14', name: '山西省' }, { code: '15', name: '内蒙古自治区' }, { code: '21', name: '辽宁省' },
  { code: '22', name: '吉林省' }, { code: '23', name: '黑龙江省' }, { code: '31', name: '上海市' },
  { code: '32', name: '江苏省' }, { code: '33', name: '浙江省' }, { code: '34', name: '安徽省' },
  { code: '35', name: '福建省' }, { code: '36', name: '江西省' }, { code: '37', name: '山东省' },
  { code: '41', name: '河南省' }, { code: '42', name: '湖北省' }, { code: '43', name: '湖南省' },
  { code: '44', name: '广东省' }, { code: '45', name: '广西壮族自治区' }, { code: '46', name: '海南省' },
  { code: '50', name: '重庆市' }, { code: '51', name: '四川省' }, { code: '52', name: '贵州省' },
  { code: '53', name: '云南省' }, { code: '54', name: '西藏自治区' }, { code: '62', name: '甘肃省' },
  { code: '63', name: '青海省' }, { code: '64', name: '宁夏回族自治区' }, { code: '65', name: '新疆维吾尔自治区' },
  { code: '71', name: '台湾省' }, { code: '81', name: '香港特别行政区' }, { code: '82', name: '澳门特别行政区' },
]

export const countries: ReadonlyArray<{ code: string; name: string }> = [
  { code: 'US', name: '美国' }, { code: 'JP', name: '日本' }, { code: 'KR', name: '韩国' },
  { code: 'GB', name: '英国' }, { code: 'FR', name: '法国' }, { code: 'DE', name: '德国' },
  { code: 'IT', name: '意大利' }, { code: 'ES', name: '西班牙' }, { code: 'RU', name: '俄罗斯' },
  { code: 'AU', name: '澳大利亚' }, { code: 'CA', name: '加拿大' }, { code: 'SG', name: '新加坡' },
  { code: 'TH', name: '泰国' }, { code: 'MY', name: '马来西亚' }, { code: 'IR', name: '伊朗' },
]

/**
 * A readable name for a place code: the name the API gave (names, e.g. a fact's placeName) first; otherwise
 * places abroad and other provinces are named here as the API names them (境外（美国）), 陕西 codes need the API.
 */
export function placeLabel(place: string, names: Record<string, string> = {}): string {
  if (names[place]) return names[place]!
  if (place.startsWith('ABROAD:')) {
    const iso = place.slice(7)
    return `境外（${countries.find((c) => c.code === iso)?.name ?? iso}）`
  }
  const prov = provinces.find((p) => place.startsWith(p.code))
  if (prov) return place.length === 2 ? prov.name : `${prov.name}（${place}）`
  return place
}
