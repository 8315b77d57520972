// A ticket's page follows the ticket live: another person's step on it,
// announced by the ticket queue subscription, reloads the page at once.
import { onBeforeUnmount, onMounted } from 'vue'
import type { Subscription } from 'wonka'
import { TicketQueueDocument } from '@/console/generated/graphql'
import { client } from '../context'

/** Calls reload while the page is mounted whenever ticket id() changes to another version than updatedAt(). */
export function reloadOnTicketChange(id: () => string, updatedAt: () => string | undefined, reload: () => unknown) {
  let sub: Subscription | null = null
  onMounted(() => {
    sub = client.subscription(TicketQueueDocument, {}).subscribe((res) => {
      const tk = res.data?.ticketQueue
      if (tk?.id === id() && tk.updatedAt !== updatedAt()) void reload()
    })
  })
  onBeforeUnmount(() => sub?.unsubscribe())
}
