// The scanner's device state: the signed-in inspector, the venue and mode
// chosen (kept on the device, with the venues list for offline start-ups),
// and whether the browser is online.
import { reactive } from 'vue'
import { getSetting, setSetting } from './store/db'

export interface VenueChoice {
  id: string
  name: string
  typeLabel: string
}

export const device = reactive({
  online: typeof navigator === 'undefined' ? true : navigator.onLine !== false,
  venues: [] as VenueChoice[],
  venue: null as VenueChoice | null,
  mode: 'VISITOR' as 'EMPLOYEE' | 'VISITOR',
  inspector: '',
})

export async function loadDevice() {
  device.venues = (await getSetting<VenueChoice[]>('venues')) ?? []
  device.venue = (await getSetting<VenueChoice>('venue')) ?? null
  device.mode = (await getSetting<'EMPLOYEE' | 'VISITOR'>('mode')) ?? 'VISITOR'
  device.inspector = (await getSetting<string>('inspector')) ?? ''
}

export async function saveDevice() {
  await setSetting('venues', JSON.parse(JSON.stringify(device.venues)))
  await setSetting('venue', device.venue ? { ...device.venue } : null)
  await setSetting('mode', device.mode)
  await setSetting('inspector', device.inspector)
}
