// A clock shared by every countdown on screen (one timer), and the working
// calendar the countdowns of working-time deadlines need (loaded once).
import { ref, shallowRef } from 'vue'
import { WorkCalendarDocument, WorkingHoursDocument } from '@/console/generated/graphql'
import { calendarOf, defaultCalendar, type WorkCalendar } from './worktime'
import { client } from './context'

export const now = ref(Date.now())
let timer: ReturnType<typeof setInterval> | undefined
let users = 0

/** Starts the shared clock (ticking every 15 s) while a component uses it; returns the stop. */
export function useNow(): () => void {
  users++
  now.value = Date.now()
  timer ??= setInterval(() => (now.value = Date.now()), 15_000)
  return () => {
    users--
    if (users <= 0 && timer) {
      clearInterval(timer)
      timer = undefined
      users = 0
    }
  }
}

export const calendar = shallowRef<WorkCalendar>(defaultCalendar)
let loaded = false

/** Loads the working hours and the holidays of this year and the next (once). */
export async function loadCalendar(): Promise<void> {
  if (loaded) return
  loaded = true
  const year = new Date().getFullYear()
  const [hours, ...years] = await Promise.all([
    client.query(WorkingHoursDocument, {}, { requestPolicy: 'cache-first' }).toPromise(),
    // A year without holiday data answers NOT_FOUND: Monday to Friday.
    ...[year, year + 1].map((y) => client.query(WorkCalendarDocument, { year: y }, { requestPolicy: 'cache-first' }).toPromise()),
  ])
  const list = hours.data?.workingHours?.length ? hours.data.workingHours : ['08:30-12:00', '14:00-17:30']
  calendar.value = calendarOf(list, years.flatMap((r) => r.data?.workCalendar ?? []))
}
