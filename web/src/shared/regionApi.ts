// Region look-ups for the pickers, through the typed documents.
import type { Client } from '@urql/core'
import { AreaRisksDocument, RegionDocument, RegionsDocument, type Level } from '@/api/generated/graphql'

export interface RegionNode {
  code: string
  name: string
  level: Level
}

/** All children of a region (every page), ordered by code; parent null: the cities of Shaanxi. */
export async function childRegions(client: Client, parent: string | null): Promise<RegionNode[]> {
  const out: RegionNode[] = []
  let after: string | null = null
  for (let page = 0; page < 20; page++) {
    const res = await client.query(RegionsDocument, { parent, first: 100, after }, { requestPolicy: 'cache-first' }).toPromise()
    if (res.error || !res.data) throw res.error ?? new Error('no data')
    out.push(...res.data.regions.nodes)
    if (!res.data.regions.pageInfo.hasNextPage) break
    after = res.data.regions.pageInfo.endCursor
  }
  return out
}

/** The names of a region and its ancestors, from the city down ("西安市 / 雁塔区 / …"). */
export async function regionPath(client: Client, code: string): Promise<string[]> {
  const codes: string[] = []
  for (const n of [4, 6, 9, 12, 15]) if (code.length >= n) codes.push(code.slice(0, n))
  const names = await Promise.all(
    codes.map(async (c) => {
      const res = await client.query(RegionDocument, { code: c }, { requestPolicy: 'cache-first' }).toPromise()
      return res.data?.region?.name ?? c
    }),
  )
  return names
}

/** The Chinese names of regions by code ("610113" → "雁塔区"); codes the API does not know are left out. */
export async function regionNamesOf(client: Client, codes: Iterable<string>): Promise<Record<string, string>> {
  const names: Record<string, string> = {}
  await Promise.all(
    [...new Set(codes)].filter(Boolean).map(async (code) => {
      const res = await client.query(RegionDocument, { code }, { requestPolicy: 'cache-first' }).toPromise()
      if (res.data?.region) names[code] = res.data.region.name
    }),
  )
  return names
}

export interface RiskArea {
  regionCode: string
  regionName: string
  level: string
  reason: string
}

/** Areas designated HIGH or MEDIUM inside a region (another province's code works too). */
export async function riskAreas(client: Client, region: string): Promise<RiskArea[]> {
  const res = await client.query(AreaRisksDocument, { region }, { requestPolicy: 'network-only' }).toPromise()
  return (res.data?.areaRisks ?? []).filter((a) => a.level !== 'LOW')
}
